"""Forwarding one webhook to an external plugin, against a local service:
how it is signed, and which answers fail it for good or for a retry."""

import hashlib
import hmac
import json
import time

import pytest

from hook.events import Event
from hook.external import forward_to
from prow.config.plugins_schema import ExternalPlugin
from prow.errors import OutsideError, TransientError
from tests.test_outside import OutsideDouble, refused_address
from tests.webhooks import SECRET, fixture_payload

GUID = "forward-1"


@pytest.fixture
def service():
    with OutsideDouble() as double:
        yield double


def event():
    return Event("issue_comment", GUID, fixture_payload("issue_comment.created"))


def forward(url, **kwargs):
    external = ExternalPlugin(name="needs-rebase", endpoint=url)
    forward_to(external, **kwargs)(None, event())


def signed(body, secret, algorithm):
    return hmac.new(secret.encode(), body, algorithm).hexdigest()


def test_the_webhook_goes_out_signed(service, secret_file):
    forward(f"{service.url}/echo")
    (request,) = service.seen
    body, headers = request["body"], request["headers"]
    assert request["method"] == "POST"
    assert json.loads(body) == event().payload
    assert headers["X-GitHub-Event"] == "issue_comment"
    assert headers["X-GitHub-Delivery"] == GUID
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hub-Signature-256"] == "sha256=" + signed(
        body, SECRET, hashlib.sha256
    )
    assert headers["X-Hub-Signature"] == "sha1=" + signed(body, SECRET, hashlib.sha1)


def test_the_repository_own_secret_signs(service, tmp_path, settings):
    org, repo = event().org, event().repo
    path = tmp_path / "hmac.yaml"
    path.write_text(
        "'*':\n- value: everyone\n"
        f"{org}/{repo}:\n- value: just-this-repo\n- value: older\n"
    )
    settings.PROW_HMAC_SECRET_FILE = str(path)
    forward(f"{service.url}/echo")
    (request,) = service.seen
    assert request["headers"]["X-Hub-Signature-256"] == "sha256=" + signed(
        request["body"], "just-this-repo", hashlib.sha256
    )


def test_a_repository_without_a_token_is_forwarded_unsigned(
    service, tmp_path, settings
):
    path = tmp_path / "hmac.yaml"
    path.write_text("some-other-org:\n- value: theirs\n")
    settings.PROW_HMAC_SECRET_FILE = str(path)
    forward(f"{service.url}/echo")
    (request,) = service.seen
    assert "X-Hub-Signature-256" not in request["headers"]
    assert "X-Hub-Signature" not in request["headers"]


def test_without_secrets_nothing_is_sent(service, settings, tmp_path):
    settings.PROW_HMAC_SECRET_FILE = str(tmp_path / "missing")
    with pytest.raises(OutsideError) as caught:
        forward(f"{service.url}/echo")
    assert not isinstance(caught.value, TransientError)
    assert "cannot sign for needs-rebase" in str(caught.value)
    assert service.seen == []


@pytest.mark.parametrize("code", [500, 503])
def test_a_failing_plugin_is_retried_later(service, secret_file, code):
    with pytest.raises(TransientError) as caught:
        forward(f"{service.url}/status?code={code}")
    assert f"answered {code}" in str(caught.value)
    assert len(service.seen) == 1


def test_a_busy_plugin_says_when(service, secret_file):
    with pytest.raises(TransientError) as caught:
        forward(f"{service.url}/limited?after=42")
    assert caught.value.retry_after == 42


@pytest.mark.parametrize("code", [400, 404])
def test_a_refusal_is_permanent(service, secret_file, code):
    with pytest.raises(OutsideError) as caught:
        forward(f"{service.url}/status?code={code}")
    assert caught.value.permanent is True
    assert not isinstance(caught.value, TransientError)


def test_an_unreachable_plugin_is_retried_later(secret_file):
    with pytest.raises(TransientError):
        forward(f"{refused_address()}/hook")


def test_a_plugin_that_does_not_answer_is_given_up_on(service, secret_file):
    started = time.monotonic()
    with pytest.raises(TransientError):
        forward(f"{service.url}/slow", timeout=0.5)
    assert time.monotonic() - started < 1.5
