"""ProwJobs: the list Deck shows, one job, and the rerun, abort and
run-a-periodic-now actions Deck's buttons perform."""

import uuid
from dataclasses import fields

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import (
    APIException,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from deck.api.base import Api
from deck.api.pagination import PageParams, page_of, page_response
from deck.api.serializers import (
    FIELD_ERRORS,
    ErrorSerializer,
    ProwJobSerializer,
    QueryIntegerField,
    TextField,
    cursor_page_of,
)
from deck.permissions import can_act_on_job, can_start_periodic, github_login
from deck.queries import REPO_PATTERN, FilterError, JobFilters, public_jobs
from jobs.horologium import trigger_periodic
from jobs.models import ProwJob, ProwJobState, ProwJobType
from jobs.services import prowjob_abort, prowjob_rerun
from prow.config.active import active_config

FILTER_NAMES = frozenset(f.name for f in fields(JobFilters))

TAGS = ["prowjobs"]
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such job.")
NOT_LOGGED_IN = OpenApiResponse(ErrorSerializer, description="No token or session.")
NOT_ALLOWED = OpenApiResponse(
    ErrorSerializer, description="The rerun rules of the job do not allow this user."
)


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _serialize(jobs, *, many=False):
    context = {"prowjob_namespace": active_config().config.prowjob_namespace}
    return ProwJobSerializer(jobs, many=many, context=context).data


def _job(name: str) -> ProwJob:
    try:
        key = uuid.UUID(name)
    except ValueError:
        raise NotFound(f"No ProwJob named {name}.")
    # Hidden jobs are hidden here too: their ids travel in GitHub links.
    return get_object_or_404(public_jobs(), name=key)


class ProwJobListApi(Api):
    class FilterSerializer(PageParams):
        # The same filters as Deck's job list, blank meaning "any" as in its
        # form; JobFilters has the last word, these declare them for the
        # schema and turn bad values into 400s before they reach it.
        type = serializers.ChoiceField(
            ProwJobType.choices, required=False, allow_blank=True
        )
        repo = serializers.RegexField(
            REPO_PATTERN.pattern,
            required=False,
            allow_blank=True,
            max_length=201,
            help_text='"org" or "org/repo".',
        )
        job = TextField(
            required=False, allow_blank=True, max_length=255, help_text="Job name."
        )
        state = serializers.ChoiceField(
            ProwJobState.choices, required=False, allow_blank=True
        )
        author = TextField(
            required=False,
            allow_blank=True,
            max_length=100,
            help_text="Pull request author's login.",
        )
        pull = QueryIntegerField(
            required=False, min_value=0, max_value=999_999_999, help_text="PR number."
        )
        q = TextField(
            required=False,
            allow_blank=True,
            max_length=255,
            help_text="Part of a job name, case-insensitive.",
        )

        class Meta:
            ref_name = "ProwJobFilters"

    @extend_schema(
        tags=TAGS,
        operation_id="prowjobs_list",
        summary="List ProwJobs, newest first",
        parameters=[FilterSerializer],
        responses={
            200: cursor_page_of(ProwJobSerializer, "ProwJobPage"),
            400: OpenApiResponse(FIELD_ERRORS, description="A filter is invalid."),
        },
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query = {
            key: str(value)
            for key, value in params.validated_data.items()
            if key in FILTER_NAMES
        }
        try:
            filters = JobFilters.from_query(query)
            # Refuses, as Deck does, filters too costly to search.
            page = page_of(params.validated_data, filters=filters)
        except FilterError as exc:
            raise ValidationError({exc.name: [exc.message]})
        return page_response(request, page, _serialize(page.rows, many=True))


class ProwJobDetailApi(Api):
    @extend_schema(
        tags=TAGS,
        operation_id="prowjobs_retrieve",
        summary="One ProwJob",
        responses={200: ProwJobSerializer, 404: NOT_FOUND},
    )
    def get(self, request, name: str):
        return Response(_serialize(_job(name)))


class ProwJobRerunApi(Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="prowjobs_rerun",
        summary="Run a job again with the same spec and refs",
        request=None,
        responses={
            201: OpenApiResponse(ProwJobSerializer, description="The new run."),
            401: NOT_LOGGED_IN,
            403: NOT_ALLOWED,
            404: NOT_FOUND,
        },
    )
    def post(self, request, name: str):
        job = _job(name)
        if not can_act_on_job(request.user, job):
            raise PermissionDenied(f"You may not rerun {job.job}.")
        new = prowjob_rerun(job, user=github_login(request.user))
        return Response(_serialize(new), status=status.HTTP_201_CREATED)


class ProwJobAbortApi(Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="prowjobs_abort",
        summary="Abort a job that has not finished",
        request=None,
        responses={
            200: OpenApiResponse(ProwJobSerializer, description="The aborted job."),
            401: NOT_LOGGED_IN,
            403: NOT_ALLOWED,
            404: NOT_FOUND,
            409: OpenApiResponse(
                ErrorSerializer, description="The job already finished."
            ),
        },
    )
    def post(self, request, name: str):
        job = _job(name)
        if not can_act_on_job(request.user, job):
            raise PermissionDenied(f"You may not abort {job.job}.")
        description = f"Aborted by {github_login(request.user)}."
        # prowjob_abort also refuses when plank moved the job on meanwhile
        # (triggered -> pending); only a finished job is a conflict.
        for _attempt in range(3):
            if job.is_complete():
                raise Conflict(f"The job already finished ({job.state}).")
            if prowjob_abort(job, description):
                return Response(_serialize(job))
            job.refresh_from_db()
        raise Conflict("The job keeps changing state; try again.")


class PeriodicRunApi(Api):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="periodics_run",
        summary="Start a periodic now, outside its schedule",
        request=None,
        responses={
            201: OpenApiResponse(ProwJobSerializer, description="The new run."),
            401: NOT_LOGGED_IN,
            403: NOT_ALLOWED,
            404: OpenApiResponse(ErrorSerializer, description="No such periodic."),
        },
    )
    def post(self, request, name: str):
        missing = NotFound(f"No periodic named {name} in the active config.")
        if active_config().config.periodic(name) is None:
            raise missing
        if not can_start_periodic(request.user, name):
            raise PermissionDenied(f"You may not start {name}.")
        try:
            job = trigger_periodic(name, user=github_login(request.user))
        except LookupError:  # removed from the config a moment ago
            raise missing
        return Response(_serialize(job), status=status.HTTP_201_CREATED)
