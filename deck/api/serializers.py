"""What the API reads and writes: input fields as strict as the schema
says they are, and the response shapes.

The ProwJob serializers exist to describe the original's ProwJob JSON in the
OpenAPI schema; the document itself always comes from
jobs.serialization.prowjob_to_dict, the one writer of that shape, so the
API, Deck and /prowjobs.js cannot drift apart.
"""

import re

import yaml
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from yaml.reader import Reader

from hook.models import WebhookDelivery
from jobs.models import ProwJobState, ProwJobType
from jobs.serialization import API_VERSION, KIND, prowjob_to_dict
from prow.config.models import ConfigVersion
from prow.config.text import too_large
from prow.config.yamlsource import expansion_problem

INTEGER = re.compile(r"-?[0-9]{1,20}")
# Rejected input as DRF writes it: each bad field (or non_field_errors)
# with its messages.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
# A body that is not JSON gets a single detail instead.
BAD_BODY = {
    "anyOf": [
        FIELD_ERRORS,
        {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        },
    ]
}


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField also turns numbers and booleans into
    text, which the schema (type: string) says is invalid."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# The patterns below end in "+", not "*": drf-spectacular gives a blank
# value a oneOf branch of its own, and two matching branches fail a oneOf.


@extend_schema_field({"type": "string", "pattern": r"^[^\x00]+$"})
class TextField(StrictCharField):
    """Text without NUL characters, which PostgreSQL cannot store (DRF
    refuses them; the schema says so too)."""


@extend_schema_field(
    {
        "type": "string",
        # What yaml.reader.Reader.NON_PRINTABLE lets through.
        "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]+$",
    }
)
class YamlTextField(TextField):
    """The text of a YAML file, refused here when the config check would
    fail on it rather than report: characters YAML forbids (most control
    characters), an alias inside its own anchor (endless), and aliases
    that multiply the document (the "billion laughs": a few hundred bytes
    that take minutes to check)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            problem = too_large(data)
            if problem:
                raise serializers.ValidationError(problem)
        text = super().to_internal_value(data)
        bad = Reader.NON_PRINTABLE.search(text)
        if bad is not None:
            line = text.count("\n", 0, bad.start()) + 1
            raise serializers.ValidationError(
                f"line {line}: character U+{ord(bad.group()):04X} cannot appear in YAML"
            )
        problem = alias_problem(text)
        if problem:
            raise serializers.ValidationError(problem)
        return text


def alias_problem(text: str) -> str | None:
    """What makes the aliases of `text` unsafe to expand, if anything (the
    config check refuses the same; here it is a 400 on the field)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None  # a syntax error: the config check reports its line
    if root is None:
        return None
    problem = expansion_problem(root)
    if problem is None:
        return None
    line, message = problem
    return f"line {line}: {message}" if "contains it" in message else message


class QueryIntegerField(serializers.IntegerField):
    """An integer query parameter, written as one: DRF's IntegerField also
    reads "5.0" as 5 and a blank value as left out, where the schema
    (type: integer) calls both invalid."""

    def get_value(self, dictionary):
        if dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not (isinstance(data, str) and INTEGER.fullmatch(data)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: DRF's BooleanField also takes 1, "yes",
    "on" and their like."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ErrorSerializer(serializers.Serializer):
    """Any other error, as DRF writes it."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "Error"


class _Pull(serializers.Serializer):
    number = serializers.IntegerField()
    author = serializers.CharField()
    sha = serializers.CharField()
    title = serializers.CharField(required=False)
    ref = serializers.CharField(required=False)
    head_ref = serializers.CharField(required=False)
    link = serializers.CharField(required=False)
    commit_link = serializers.CharField(required=False)
    author_link = serializers.CharField(required=False)

    class Meta:
        ref_name = "Pull"


class _Refs(serializers.Serializer):
    org = serializers.CharField(allow_blank=True)
    repo = serializers.CharField(allow_blank=True)
    repo_link = serializers.CharField(required=False)
    base_ref = serializers.CharField(required=False)
    base_sha = serializers.CharField(required=False)
    base_link = serializers.CharField(required=False)
    pulls = _Pull(many=True, required=False)
    path_alias = serializers.CharField(required=False)
    workdir = serializers.BooleanField(required=False)
    clone_uri = serializers.CharField(required=False)
    skip_submodules = serializers.BooleanField(required=False)
    clone_depth = serializers.IntegerField(required=False)
    skip_fetch_head = serializers.BooleanField(required=False)
    blobless_fetch = serializers.BooleanField(required=False)
    sparse_checkout_files = serializers.ListField(
        child=serializers.CharField(), required=False
    )
    auxiliary = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "Refs"


class _Metadata(serializers.Serializer):
    name = serializers.UUIDField()
    namespace = serializers.CharField()
    creationTimestamp = serializers.DateTimeField(required=False)  # noqa: N815
    labels = serializers.DictField(child=serializers.CharField(), required=False)
    annotations = serializers.DictField(child=serializers.CharField(), required=False)

    class Meta:
        ref_name = "ProwJobMetadata"


class _Spec(serializers.Serializer):
    type = serializers.ChoiceField(ProwJobType.choices)
    agent = serializers.CharField(required=False)
    cluster = serializers.CharField(required=False)
    namespace = serializers.CharField(required=False)
    job = serializers.CharField()
    refs = _Refs(required=False)
    extra_refs = _Refs(many=True, required=False)
    report = serializers.BooleanField(required=False)
    context = serializers.CharField(required=False)
    rerun_command = serializers.CharField(required=False)
    max_concurrency = serializers.IntegerField(required=False)
    error_on_eviction = serializers.BooleanField(required=False)
    pod_spec = serializers.DictField(required=False, help_text="A Kubernetes PodSpec.")
    decoration_config = serializers.DictField(required=False)
    reporter_config = serializers.DictField(required=False)
    rerun_auth_config = serializers.DictField(required=False)
    hidden = serializers.BooleanField(required=False)
    job_queue_name = serializers.CharField(required=False)

    class Meta:
        ref_name = "ProwJobSpec"


class _Status(serializers.Serializer):
    startTime = serializers.DateTimeField(required=False)  # noqa: N815
    pendingTime = serializers.DateTimeField(required=False)  # noqa: N815
    completionTime = serializers.DateTimeField(required=False)  # noqa: N815
    state = serializers.ChoiceField(ProwJobState.choices)
    description = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    pod_name = serializers.CharField(required=False)
    build_id = serializers.CharField(required=False)
    prev_report_states = serializers.DictField(
        child=serializers.CharField(), required=False
    )
    pod_revival_count = serializers.IntegerField(required=False)

    class Meta:
        ref_name = "ProwJobStatus"


class ProwJobSerializer(serializers.Serializer):
    """A ProwJob as the original's `prow.k8s.io/v1` object; it validates
    against the original's CustomResourceDefinition."""

    apiVersion = serializers.ChoiceField([API_VERSION])  # noqa: N815
    kind = serializers.ChoiceField([KIND])
    metadata = _Metadata()
    spec = _Spec()
    status = _Status()

    class Meta:
        ref_name = "ProwJob"

    def to_representation(self, instance):
        # The declared fields document the shape; the writer is shared.
        return prowjob_to_dict(
            instance, prowjob_namespace=self.context["prowjob_namespace"]
        )


def cursor_page_of(serializer: type[serializers.Serializer], name: str):
    """The schema of a page of `serializer` items, as
    pagination.page_response writes it."""
    return type(
        f"{name}Serializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(
                allow_null=True, help_text="The next (older) page, if any."
            ),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous (newer) page, if any."
            ),
            "results": serializer(many=True),
            "Meta": type("Meta", (), {"ref_name": name}),
        },
    )


class ConfigVersionSummarySerializer(serializers.ModelSerializer):
    created = serializers.DateTimeField(source="created_at")
    author = serializers.CharField(source="author_name")
    warnings = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = ConfigVersion
        fields = ["id", "created", "source", "author", "comment", "warnings"]
        ref_name = "ConfigVersionSummary"


class ConfigVersionSerializer(ConfigVersionSummarySerializer):
    class Meta(ConfigVersionSummarySerializer.Meta):
        fields = [
            *ConfigVersionSummarySerializer.Meta.fields,
            "config_yaml",
            "plugins_yaml",
        ]
        ref_name = "ConfigVersion"


class ConfigIssueSerializer(serializers.Serializer):
    file = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    path = serializers.CharField()
    message = serializers.CharField()

    class Meta:
        ref_name = "ConfigIssue"


class ConfigValidationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ConfigIssueSerializer(many=True)
    warnings = ConfigIssueSerializer(many=True)

    class Meta:
        ref_name = "ConfigValidation"

    def to_representation(self, instance):
        return {
            "valid": instance.ok,
            "errors": ConfigIssueSerializer(instance.errors, many=True).data,
            "warnings": ConfigIssueSerializer(instance.warnings, many=True).data,
        }


class DeliverySummarySerializer(serializers.ModelSerializer):
    repo = serializers.CharField(source="full_repo")
    plugin_results = serializers.DictField(
        child=serializers.CharField(),
        help_text='Plugin name to "ok" or the error it ended with.',
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "guid",
            "event",
            "action",
            "repo",
            "sender",
            "status",
            "attempts",
            "last_error",
            "plugin_results",
            "received_at",
            "started_at",
            "finished_at",
            "redeliveries",
        ]
        ref_name = "DeliverySummary"


class DeliverySerializer(DeliverySummarySerializer):
    payload = serializers.DictField(
        help_text="The webhook's JSON body as GitHub sent it."
    )

    class Meta(DeliverySummarySerializer.Meta):
        fields = [*DeliverySummarySerializer.Meta.fields, "payload"]
        ref_name = "Delivery"
