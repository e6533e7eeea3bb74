import json

from django.contrib import admin, messages
from django.utils.html import format_html

from hook.models import WebhookDelivery
from hook.services import delivery_replay


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    # What people look for first comes first, and the GUID is cut to its
    # head (the whole one is the title and the search key), so the columns
    # fit beside the filters at 1280 px.
    list_display = (
        "short_guid",
        "status",
        "attempts",
        "event",
        "action",
        "full_repo",
        "sender",
        "received_at",
    )
    list_filter = ("status", "event", "org", "repo")
    search_fields = ("guid", "org", "repo", "sender")
    date_hierarchy = "received_at"
    show_full_result_count = False  # no COUNT(*) over millions of rows
    actions = ("replay_failed_plugins", "replay_everything")
    readonly_fields = (
        "guid",
        "event",
        "action",
        "org",
        "repo",
        "sender",
        "status",
        "attempts",
        "redeliveries",
        "received_at",
        "started_at",
        "finished_at",
        "plugin_results",
        "last_error",
        "payload_pretty",
    )
    exclude = ("payload",)

    @admin.display(description="GUID", ordering="guid")
    def short_guid(self, obj):
        return format_html('<span title="{}">{}…</span>', obj.guid, obj.guid[:8])

    @admin.display(description="repository")
    def full_repo(self, obj):
        return obj.full_repo

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        text = json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable, not editable: the log is what GitHub sent.
        return False

    @admin.action(
        description="Handle again (plugins that failed)", permissions=["view"]
    )
    def replay_failed_plugins(self, request, queryset):
        self._replay(request, queryset, rerun_all=False)

    @admin.action(description="Handle again (every plugin)", permissions=["view"])
    def replay_everything(self, request, queryset):
        self._replay(request, queryset, rerun_all=True)

    def _replay(self, request, queryset, rerun_all):
        if not request.user.is_superuser:
            self.message_user(request, "Only superusers may replay.", messages.ERROR)
            return
        count = 0
        for delivery in queryset.iterator():
            delivery_replay(delivery, rerun_all=rerun_all)
            count += 1
        self.message_user(request, f"{count} deliveries queued to be handled again.")
