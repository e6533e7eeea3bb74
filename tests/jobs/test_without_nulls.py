"""The one null filter behind the pod manifest and the ProwJob JSON: YAML's
empty values are dropped in mappings and lists alike, since Kubernetes'
schema and the ProwJob CRD reject null wherever a value is typed."""

from collections import OrderedDict

from jobs.serialization import without_nulls


def test_nulls_go_from_mappings_and_lists_at_any_depth():
    spec = {
        "containers": [
            {"name": "test", "env": None, "args": ["a", None, "b"]},
            None,
        ],
        "nodeSelector": None,
        "tolerations": [],
    }
    assert without_nulls(spec) == {
        "containers": [{"name": "test", "args": ["a", "b"]}],
        "tolerations": [],
    }


def test_falsy_values_that_are_not_null_stay():
    value = {"replicas": 0, "privileged": False, "name": "", "items": [0, "", {}]}
    assert without_nulls(value) == value


def test_other_mappings_are_read_as_dicts():
    assert without_nulls(OrderedDict(a=1, b=None)) == {"a": 1}
