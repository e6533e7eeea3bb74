from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from prow.config.active import active_config
from prow.config.forms import ConfigEditForm
from prow.config.models import ConfigVersion
from prow.config.services import ConfigInvalid, config_rollback, config_version_create
from prow.config.text import unified_diff


@admin.register(ConfigVersion)
class ConfigVersionAdmin(admin.ModelAdmin):
    # Which version is active first: long comments must not push it out
    # of sight at 1280 px.
    list_display = (
        "id",
        "status",
        "created_at",
        "source",
        "who",
        "short_comment",
        "warning_count",
    )
    list_filter = ("source",)
    search_fields = ("comment", "author_name", "config_yaml", "plugins_yaml")
    date_hierarchy = "created_at"

    @admin.display(description="author")
    def who(self, obj: ConfigVersion) -> str:
        return obj.author_name or "-"

    @admin.display(description="comment")
    def short_comment(self, obj: ConfigVersion) -> str:
        if len(obj.comment) <= 60:
            return obj.comment
        return format_html('<span title="{}">{}…</span>', obj.comment, obj.comment[:60])

    @admin.display(description="warnings")
    def warning_count(self, obj: ConfigVersion) -> int:
        return len(obj.warnings)

    @admin.display(description="")
    def status(self, obj: ConfigVersion) -> str:
        if obj.pk == self._active_id():
            return format_html("<strong>{}</strong>", "active")
        return ""

    def _active_id(self):
        return (
            ConfigVersion.objects.order_by("-pk").values_list("pk", flat=True).first()
        )

    # Versions are history: they are added, never edited or deleted.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:version_id>/rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="{}_{}_rollback".format(*info),
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        active = active_config()
        if request.method == "POST":
            form = ConfigEditForm(request.POST)
            if "_validate" in request.POST:
                # The same checks as saving (the form runs them), and nothing
                # more: no version row, no reconcile.
                if form.is_valid():
                    self.message_user(
                        request,
                        "Both files are valid. Nothing was saved.",
                        messages.SUCCESS,
                    )
                    for warning in form.warnings:
                        self.message_user(request, warning, messages.WARNING)
            elif form.is_valid():
                try:
                    version = config_version_create(
                        config_yaml=form.cleaned_data["config_yaml"],
                        plugins_yaml=form.cleaned_data["plugins_yaml"],
                        source=ConfigVersion.Source.ADMIN,
                        author=request.user,
                        comment=form.cleaned_data["comment"],
                    )
                except ConfigInvalid as exc:  # pragma: no cover - form validated
                    form.add_error(None, str(exc))
                else:
                    self.message_user(
                        request,
                        f"Saved as version {version.pk}; it is now the active config.",
                        messages.SUCCESS,
                    )
                    for warning in version.warnings:
                        self.message_user(request, warning, messages.WARNING)
                    return HttpResponseRedirect(
                        reverse("admin:config_configversion_change", args=[version.pk])
                    )
        else:
            latest = ConfigVersion.objects.order_by("-pk").first()
            form = ConfigEditForm(
                initial={
                    "config_yaml": latest.config_yaml if latest else "",
                    "plugins_yaml": latest.plugins_yaml if latest else "",
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Edit the Prow configuration",
            "form": form,
            "validate_only": "_validate" in request.POST,
            "active_version": active.version_id,
        }
        return TemplateResponse(request, "admin/config/edit.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = get_object_or_404(ConfigVersion, pk=object_id)
        previous = version.previous()
        old_config = previous.config_yaml if previous else ""
        old_plugins = previous.plugins_yaml if previous else ""
        old_label = f"version {previous.pk}" if previous else "nothing"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Config version {version.pk}",
            "version": version,
            "previous": previous,
            "is_active": version.pk == self._active_id(),
            "config_diff": unified_diff(
                old_config,
                version.config_yaml,
                f"config.yaml ({old_label})",
                f"config.yaml (version {version.pk})",
            ),
            "plugins_diff": unified_diff(
                old_plugins,
                version.plugins_yaml,
                f"plugins.yaml ({old_label})",
                f"plugins.yaml (version {version.pk})",
            ),
            "can_rollback": self.has_add_permission(request),
        }
        return TemplateResponse(request, "admin/config/version.html", context)

    def rollback_view(self, request, version_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        version = get_object_or_404(ConfigVersion, pk=version_id)
        try:
            new = config_rollback(version=version, author=request.user)
        except ConfigInvalid as exc:
            self.message_user(
                request,
                f"Version {version.pk} cannot be restored: {exc}",
                messages.ERROR,
            )
            return HttpResponseRedirect(
                reverse("admin:config_configversion_change", args=[version.pk])
            )
        self.message_user(
            request,
            f"Rolled back to version {version.pk}; saved as version {new.pk}, "
            "now active.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(
            reverse("admin:config_configversion_change", args=[new.pk])
        )
