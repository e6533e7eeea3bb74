"""Cursor pages for the API's lists.

Every list is cut by primary key with deck.queries.job_page (`id < cursor`,
never OFFSET), so a page deep into a million rows costs what the first one
does, and rows arriving while a client walks the list neither repeat nor
shift what it sees. A cursor is a direction and an id: `o123` starts after
id 123 going back in time, `n123` goes forward; any such cursor means a
page, so clients may also make their own.
"""

import re

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from deck.api.serializers import QueryIntegerField
from deck.queries import MAX_PAGE_SIZE, PAGE_SIZE, JobFilters, Page, job_page

_OLDER, _NEWER = "o", "n"
CURSOR = re.compile(r"^[on][0-9]{1,19}$")


class PageParams(serializers.Serializer):
    """The query parameters every list takes; list filters extend it."""

    cursor = serializers.RegexField(
        CURSOR.pattern,
        required=False,
        allow_blank=True,
        help_text="Where the page starts, as in the `next` and `previous` links: "
        "`o<id>` for the items older than that id, `n<id>` for the newer ones.",
    )
    limit = QueryIntegerField(
        required=False,
        default=PAGE_SIZE,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        help_text="Items per page.",
    )

    def validate_cursor(self, value: str) -> tuple[int | None, int | None]:
        return decode_cursor(value)


def decode_cursor(value: str) -> tuple[int | None, int | None]:
    """(before, after) for job_page; both None for the first page. The
    value has matched CURSOR already."""
    if not value:
        return None, None
    pk = int(value[1:])
    return (pk, None) if value[0] == _OLDER else (None, pk)


def page_of(
    params: dict, *, filters: JobFilters | None = None, queryset: QuerySet = None
) -> Page:
    """The page the validated PageParams ask for: of ProwJobs matching
    `filters`, or of `queryset` (which must be ordered newest id first)."""
    before, after = params.get("cursor") or (None, None)
    return job_page(
        filters or JobFilters(),
        before=before,
        after=after,
        limit=params["limit"],
        queryset=queryset,
    )


def page_response(request: Request, page: Page, results: list) -> Response:
    url = request.build_absolute_uri()

    def link(direction: str, pk: int | None) -> str | None:
        if pk is None:
            return None
        return replace_query_param(url, "cursor", f"{direction}{pk}")

    return Response(
        {
            "next": link(_OLDER, page.older),
            "previous": link(_NEWER, page.newer),
            "results": results,
        }
    )
