import json

from django.contrib import admin, messages
from django.utils.html import format_html

from jobs.models import UNFINISHED_STATES, ProwJob
from jobs.serialization import prowjob_to_dict
from jobs.services import prowjob_abort


@admin.register(ProwJob)
class ProwJobAdmin(admin.ModelAdmin):
    list_display = (
        "job",
        "type",
        "state",
        "full_repo",
        "pull_number",
        "build_id",
        "start_time",
        "completion_time",
    )
    list_filter = ("state", "type", "org")
    search_fields = ("job", "name", "org", "repo", "author")
    date_hierarchy = "start_time"
    show_full_result_count = False  # no COUNT(*) over a million rows
    actions = ("abort",)
    readonly_fields = ("as_prowjob",)
    fields = ("as_prowjob",)

    @admin.display(description="repository")
    def full_repo(self, obj):
        return f"{obj.org}/{obj.repo}" if obj.repo else obj.org

    @admin.display(description="ProwJob")
    def as_prowjob(self, obj):
        text = json.dumps(prowjob_to_dict(obj), indent=2, ensure_ascii=False)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Abort the selected jobs", permissions=["view"])
    def abort(self, request, queryset):
        if not request.user.is_superuser:
            self.message_user(
                request, "Only superusers may abort jobs.", messages.ERROR
            )
            return
        unfinished = queryset.filter(state__in=UNFINISHED_STATES)
        count = sum(
            prowjob_abort(job, f"{request.user.get_username()} aborted this job.")
            for job in unfinished
        )
        self.message_user(request, f"{count} jobs aborted.")
