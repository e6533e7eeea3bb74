"""Config versions: the active one, the history, checking a change before
it is made, and (for staff) making it."""

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from deck.api.base import Api
from deck.api.pagination import PageParams, page_of, page_response
from deck.api.serializers import (
    BAD_BODY,
    FIELD_ERRORS,
    ConfigValidationSerializer,
    ConfigVersionSerializer,
    ConfigVersionSummarySerializer,
    ErrorSerializer,
    TextField,
    YamlTextField,
    cursor_page_of,
)
from prow.config.active import active_config
from prow.config.models import ConfigVersion
from prow.config.services import ConfigInvalid, config_version_create
from prow.config.validation import validate

TAGS = ["config"]


class ConfigTextsSerializer(serializers.Serializer):
    config_yaml = YamlTextField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="config.yaml; left out, the active version's text is used.",
    )
    plugins_yaml = YamlTextField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="plugins.yaml; left out, the active version's text is used.",
    )

    class Meta:
        ref_name = "ConfigTexts"


def _texts(data: dict) -> tuple[str, str]:
    """Both files' text: what was sent, and the active version's for a file
    left out, so one file is checked against the other as it stands."""
    active = None
    if {"config_yaml", "plugins_yaml"} - data.keys():
        active = ConfigVersion.objects.filter(pk=active_config().version_id).first()
    config_yaml, plugins_yaml = (
        data[name] if name in data else getattr(active, name, "")
        for name in ("config_yaml", "plugins_yaml")
    )
    return config_yaml, plugins_yaml


def _version(version_id: int) -> ConfigVersion:
    return get_object_or_404(ConfigVersion, pk=version_id)


class ConfigActiveApi(Api):
    @extend_schema(
        tags=TAGS,
        operation_id="config_active",
        summary="The active config",
        responses={
            200: ConfigVersionSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No config stored yet."),
        },
    )
    def get(self, request):
        version_id = active_config().version_id
        if version_id is None:
            raise NotFound("No config has been stored yet.")
        return Response(ConfigVersionSerializer(_version(version_id)).data)


class ValidateRateThrottle(UserRateThrottle):
    """Each check can hold a web thread for seconds; staff run the
    installation and are not counted."""

    scope = "config_validate"

    def get_rate(self):
        return settings.PROW_CONFIG_VALIDATE_RATE

    def allow_request(self, request, view):
        if request.user and request.user.is_staff:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        # The account, not just its id: a database rebuilt from scratch
        # hands old ids to new users, who must not inherit their history.
        user = request.user
        ident = f"{user.pk}-{user.date_joined.timestamp()}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ConfigValidateApi(Api):
    # A check stores nothing, but parsing is work anyone anonymous could
    # make the server do at will.
    permission_classes = [IsAuthenticated]
    throttle_classes = [ValidateRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="config_validate",
        summary="Check config.yaml and plugins.yaml without storing them",
        request=ConfigTextsSerializer,
        responses={
            200: ConfigValidationSerializer,
            400: OpenApiResponse(BAD_BODY, description="Not JSON, or not text."),
            401: OpenApiResponse(ErrorSerializer, description="Not logged in."),
            429: OpenApiResponse(
                ErrorSerializer, description="Too many checks; try again later."
            ),
        },
    )
    def post(self, request):
        texts = ConfigTextsSerializer(data=request.data)
        texts.is_valid(raise_exception=True)
        result = validate(*_texts(texts.validated_data))
        return Response(ConfigValidationSerializer(result).data)


class ConfigVersionListApi(Api):
    class CreateSerializer(serializers.Serializer):
        # Both files, always: a version is what runs, not a patch to merge.
        config_yaml = YamlTextField(allow_blank=True, trim_whitespace=False)
        plugins_yaml = YamlTextField(allow_blank=True, trim_whitespace=False)
        comment = TextField(required=False, allow_blank=True, max_length=2000)

        class Meta:
            ref_name = "ConfigVersionCreate"

    def get_permissions(self):
        # Anyone may read the history, as Deck shows the config; only staff
        # change what every job and plugin runs with.
        if self.request.method == "POST":
            return [IsAdminUser()]
        return super().get_permissions()

    @extend_schema(
        tags=TAGS,
        operation_id="config_versions_list",
        summary="Config versions, newest first",
        parameters=[PageParams],
        responses={
            200: cursor_page_of(ConfigVersionSummarySerializer, "ConfigVersionPage"),
            400: OpenApiResponse(FIELD_ERRORS, description="Bad cursor or limit."),
        },
    )
    def get(self, request):
        params = PageParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = page_of(
            params.validated_data,
            queryset=ConfigVersion.objects.defer(
                "config_yaml", "plugins_yaml"
            ).order_by("-id"),
        )
        return page_response(
            request, page, ConfigVersionSummarySerializer(page.rows, many=True).data
        )

    @extend_schema(
        tags=TAGS,
        operation_id="config_versions_create",
        summary="Store a new config version (staff)",
        description="Both files are validated first; nothing is stored if "
        "either has errors. The new version is active at once.",
        request=CreateSerializer,
        responses={
            201: ConfigVersionSerializer,
            400: OpenApiResponse(BAD_BODY, description="Not JSON, or a field missing."),
            401: OpenApiResponse(ErrorSerializer, description="Not logged in."),
            403: OpenApiResponse(ErrorSerializer, description="Not staff."),
            422: OpenApiResponse(
                ConfigValidationSerializer,
                description="The config has errors; nothing was stored.",
            ),
        },
    )
    def post(self, request):
        data = self.CreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            version = config_version_create(
                config_yaml=data.validated_data["config_yaml"],
                plugins_yaml=data.validated_data["plugins_yaml"],
                source=ConfigVersion.Source.API,
                author=request.user,
                comment=data.validated_data.get("comment", ""),
            )
        except ConfigInvalid as exc:
            return Response(
                ConfigValidationSerializer(exc.result).data,
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        return Response(
            ConfigVersionSerializer(version).data, status=status.HTTP_201_CREATED
        )


class ConfigVersionDetailApi(Api):
    @extend_schema(
        tags=TAGS,
        operation_id="config_versions_retrieve",
        summary="One config version",
        responses={
            200: ConfigVersionSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such version."),
        },
    )
    def get(self, request, version_id: int):
        return Response(ConfigVersionSerializer(_version(version_id)).data)
