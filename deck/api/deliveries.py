"""The webhook delivery log, for staff: payloads name private repositories
and their contents, so nobody else may read them."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response

from deck.api.base import Api
from deck.api.pagination import PageParams, page_of, page_response
from deck.api.serializers import (
    BAD_BODY,
    FIELD_ERRORS,
    DeliverySerializer,
    DeliverySummarySerializer,
    ErrorSerializer,
    StrictBooleanField,
    TextField,
    cursor_page_of,
)
from deck.queries import REPO_PATTERN
from hook.models import WebhookDelivery
from hook.services import delivery_replay

TAGS = ["deliveries"]
STAFF_ONLY = {
    401: OpenApiResponse(ErrorSerializer, description="Not logged in."),
    403: OpenApiResponse(ErrorSerializer, description="Not staff."),
}
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No delivery with that GUID.")


def _delivery(guid: str) -> WebhookDelivery:
    # PostgreSQL refuses NUL in a query, and no GUID has one.
    if "\x00" in guid:
        raise NotFound("No delivery with that GUID.")
    return get_object_or_404(WebhookDelivery, guid=guid)


class DeliveryListApi(Api):
    permission_classes = [IsAdminUser]

    class FilterSerializer(PageParams):
        event = TextField(
            required=False,
            allow_blank=True,
            max_length=64,
            help_text="X-GitHub-Event, e.g. push.",
        )
        repo = serializers.RegexField(
            REPO_PATTERN.pattern,
            required=False,
            allow_blank=True,
            max_length=201,
            help_text='"org" or "org/repo".',
        )
        status = serializers.ChoiceField(
            WebhookDelivery.Status.choices, required=False, allow_blank=True
        )

        class Meta:
            ref_name = "DeliveryFilters"

    @extend_schema(
        tags=TAGS,
        operation_id="deliveries_list",
        summary="Webhook deliveries, newest first (staff)",
        parameters=[FilterSerializer],
        responses={
            200: cursor_page_of(DeliverySummarySerializer, "DeliveryPage"),
            400: OpenApiResponse(FIELD_ERRORS, description="A filter is invalid."),
            **STAFF_ONLY,
        },
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        deliveries = WebhookDelivery.objects.defer("payload").order_by("-id")
        if filters.get("event"):
            deliveries = deliveries.filter(event=filters["event"])
        if filters.get("repo"):
            org, _, repo = filters["repo"].partition("/")
            deliveries = deliveries.filter(org=org)
            if repo:
                deliveries = deliveries.filter(repo=repo)
        if filters.get("status"):
            deliveries = deliveries.filter(status=filters["status"])
        page = page_of(filters, queryset=deliveries)
        return page_response(
            request, page, DeliverySummarySerializer(page.rows, many=True).data
        )


class DeliveryDetailApi(Api):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=TAGS,
        operation_id="deliveries_retrieve",
        summary="One delivery with its payload (staff)",
        responses={200: DeliverySerializer, **STAFF_ONLY, 404: NOT_FOUND},
    )
    def get(self, request, guid: str):
        return Response(DeliverySerializer(_delivery(guid)).data)


class DeliveryReplayApi(Api):
    permission_classes = [IsAdminUser]

    class InputSerializer(serializers.Serializer):
        all_plugins = StrictBooleanField(
            default=False,
            help_text="Run plugins that already finished again too.",
        )

        class Meta:
            ref_name = "DeliveryReplay"

    @extend_schema(
        tags=TAGS,
        operation_id="deliveries_replay",
        summary="Handle a delivery again (staff)",
        description="Queues the delivery for the plugins; plugins that already "
        "finished are skipped unless all_plugins. A delivery being handled "
        "right now is left to its worker.",
        request=InputSerializer,
        responses={
            202: OpenApiResponse(DeliverySummarySerializer, description="Queued."),
            400: OpenApiResponse(BAD_BODY, description="Not JSON, or not a boolean."),
            **STAFF_ONLY,
            404: NOT_FOUND,
        },
    )
    def post(self, request, guid: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        delivery = _delivery(guid)
        delivery_replay(delivery, rerun_all=data.validated_data["all_plugins"])
        delivery.refresh_from_db()
        return Response(
            DeliverySummarySerializer(delivery).data, status=status.HTTP_202_ACCEPTED
        )
