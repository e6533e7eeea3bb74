"""Tide's merge pools and the history of what it did, read-only.

Both read what Tide's sync last wrote (tide.models), with the same rules as
Deck's pages: repositories in deck.hidden_repos are left out.
"""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from deck.api.base import Api
from deck.api.pagination import PageParams, page_response
from deck.api.serializers import (
    FIELD_ERRORS,
    QueryIntegerField,
    TextField,
    cursor_page_of,
)
from deck.tide_views import TideFilters, history, history_page, pools
from tide.models import Action, HistoryRecord, Pool

TAGS = ["tide"]
NAME = r"^[A-Za-z0-9_.-]+$"
REPO = r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$"
BAD_FILTER = OpenApiResponse(FIELD_ERRORS, description="A filter is invalid.")


class PullSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    author = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    sha = serializers.CharField(required=False, allow_blank=True, help_text="Head.")
    head_ref = serializers.CharField(required=False, allow_blank=True)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    url = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='What it waits for, e.g. "Not mergeable. Needs lgtm label."',
    )

    class Meta:
        ref_name = "TidePull"


class BatchJobSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The ProwJob's name.")
    job = serializers.CharField(help_text="The configured job.")
    state = serializers.CharField()
    url = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        ref_name = "TideBatchJob"


class BatchSerializer(serializers.Serializer):
    pulls = PullSummarySerializer(many=True)
    state = serializers.ChoiceField(["pending", "success", "failure"])
    jobs = BatchJobSerializer(many=True)

    class Meta:
        ref_name = "TideBatch"


class BlockerSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "TideBlocker"


class PoolSerializer(serializers.ModelSerializer):
    target = PullSummarySerializer(many=True, help_text="What the action acts on.")
    success_prs = PullSummarySerializer(many=True)
    pending_prs = PullSummarySerializer(many=True)
    missing_prs = PullSummarySerializer(many=True)
    batches = BatchSerializer(many=True, help_text="Batches tested at base_sha.")
    blockers = BlockerSerializer(
        many=True, help_text="Open issues with the blocker label."
    )

    class Meta:
        model = Pool
        fields = [
            "org",
            "repo",
            "branch",
            "base_sha",
            "action",
            "target",
            "success_prs",
            "pending_prs",
            "missing_prs",
            "batches",
            "blockers",
            "error",
            "synced_at",
        ]
        ref_name = "TidePool"


class HistoryTargetSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    author = serializers.CharField(required=False, allow_blank=True)
    sha = serializers.CharField(required=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True)
    head_ref = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        ref_name = "TideHistoryTarget"


class HistoryRecordSerializer(serializers.ModelSerializer):
    targets = HistoryTargetSerializer(many=True)

    class Meta:
        model = HistoryRecord
        fields = [
            "id",
            "org",
            "repo",
            "branch",
            "action",
            "base_sha",
            "targets",
            "error",
            "created",
        ]
        ref_name = "TideHistoryRecord"


class _PoolFilters(serializers.Serializer):
    org = serializers.RegexField(
        NAME, required=False, allow_blank=True, max_length=100, help_text="Org."
    )
    repo = serializers.RegexField(
        REPO,
        required=False,
        allow_blank=True,
        max_length=201,
        help_text='Repository name, or "org/repo".',
    )
    branch = TextField(
        required=False, allow_blank=True, max_length=255, help_text="Base branch."
    )

    def narrow(self, rows: QuerySet) -> QuerySet:
        """Rows of the org, repository and branch asked for. A `repo`
        without its org is that repository name in any org, as the
        original's /prowjobs.js reads it."""
        data = self.validated_data
        org, repo = data.get("org", ""), data.get("repo", "")
        if "/" in repo:
            repo_org, _, repo = repo.partition("/")
            if org and org != repo_org:
                return rows.none()
            org = repo_org
        if org:
            rows = rows.filter(org=org)
        if repo:
            rows = rows.filter(repo=repo)
        if data.get("branch"):
            rows = rows.filter(branch=data["branch"])
        return rows


class TidePoolListApi(Api):
    class FilterSerializer(_PoolFilters):
        class Meta:
            ref_name = "TidePoolFilters"

    @extend_schema(
        tags=TAGS,
        operation_id="tide_pools_list",
        summary="Tide's merge pools, by org, repo and branch",
        description="Every pool as Tide's last sync left it: one per branch "
        "with pull requests matching Tide's queries. Not paged: there is one "
        "pool per branch.",
        parameters=[FilterSerializer],
        responses={200: PoolSerializer(many=True), 400: BAD_FILTER},
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rows = params.narrow(pools())
        return Response(PoolSerializer(rows, many=True).data)


class TideHistoryListApi(Api):
    class FilterSerializer(_PoolFilters, PageParams):
        action = serializers.ChoiceField(
            Action.choices, required=False, allow_blank=True
        )
        pull = QueryIntegerField(
            required=False,
            min_value=0,
            max_value=999_999_999,
            help_text="A pull request among the targets.",
        )
        author = TextField(
            required=False,
            allow_blank=True,
            max_length=100,
            help_text="A target's author.",
        )

        class Meta:
            ref_name = "TideHistoryFilters"

    @extend_schema(
        tags=TAGS,
        operation_id="tide_history_list",
        summary="What Tide did (merges, tests started, errors), newest first",
        parameters=[FilterSerializer],
        responses={
            200: cursor_page_of(HistoryRecordSerializer, "TideHistoryPage"),
            400: BAD_FILTER,
        },
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = TideFilters(
            action=data.get("action", ""),
            pull=data.get("pull"),
            author=data.get("author", ""),
        )
        before, after = data.get("cursor") or (None, None)
        page = history_page(
            params.narrow(history(filters)),
            before=before,
            after=after,
            limit=data["limit"],
        )
        return page_response(
            request, page, HistoryRecordSerializer(page.rows, many=True).data
        )
