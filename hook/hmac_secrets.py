"""Webhook HMAC secrets and signature checks.

The secret file holds either one plain secret, or the original's YAML map of
`org`, `org/repo` or `*` to a list of `{value, created_at}` tokens, which is
how secrets are rotated: add the new token, move the webhooks over, remove
the old one. The file is re-read when it changes.
"""

import hashlib
import hmac
import logging
import os
import threading
from dataclasses import dataclass

import yaml

logger = logging.getLogger(__name__)


class SecretsUnavailable(Exception):
    """No secret is configured or the file cannot be read: refuse everything."""


@dataclass(frozen=True)
class Secrets:
    # scope ("*", "org" or "org/repo") -> tokens
    tokens: dict[str, tuple[bytes, ...]]

    def candidates(self, org: str | None, repo: str | None) -> tuple[bytes, ...]:
        """Tokens that may sign a delivery for org/repo: the narrowest scope
        that has any, as the original does; the global ones otherwise."""
        if org and repo and f"{org}/{repo}" in self.tokens:
            return self.tokens[f"{org}/{repo}"]
        if org and org in self.tokens:
            return self.tokens[org]
        return self.tokens.get("*", ())

    def every_token(self) -> tuple[bytes, ...]:
        return tuple(token for tokens in self.tokens.values() for token in tokens)


def parse_secrets(text: str) -> Secrets:
    stripped = text.strip()
    if not stripped:
        raise SecretsUnavailable("the HMAC secret file is empty")
    try:
        data = yaml.safe_load(stripped)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        # A plain secret: the whole file, surrounding whitespace ignored.
        return Secrets({"*": (stripped.encode(),)})
    tokens: dict[str, tuple[bytes, ...]] = {}
    for scope, entries in data.items():
        if not isinstance(entries, list):
            raise SecretsUnavailable(f"HMAC secrets for {scope!r} must be a list")
        values = []
        for entry in entries:
            value = entry.get("value") if isinstance(entry, dict) else None
            if not value:
                raise SecretsUnavailable(f"an HMAC token for {scope!r} has no value")
            values.append(str(value).encode())
        tokens[str(scope)] = tuple(values)
    return Secrets(tokens)


class SecretFile:
    """The secret file, re-read when its modification time or size changes."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._secrets: Secrets | None = None

    def load(self) -> Secrets:
        if not self.path:
            raise SecretsUnavailable("PROW_HMAC_SECRET_FILE is not set")
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise SecretsUnavailable(
                f"cannot read the HMAC secret file: {exc.strerror}"
            )
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        with self._lock:
            if stamp != self._stamp:
                with open(self.path, encoding="utf-8") as handle:
                    self._secrets = parse_secrets(handle.read())
                self._stamp = stamp
            return self._secrets


_files: dict[str, SecretFile] = {}


def secrets_from(path: str) -> Secrets:
    secret_file = _files.get(path)
    if secret_file is None:
        secret_file = _files.setdefault(path, SecretFile(path))
    return secret_file.load()


def signed_by(
    body: bytes, headers, tokens: tuple[bytes, ...]
) -> tuple[frozenset[bytes], str]:
    """The tokens among `tokens` that signed `body` (X-Hub-Signature-256, or
    the legacy SHA-1 X-Hub-Signature when the first is absent), and why none
    did. Works on the raw bytes, so a body nobody signed is never parsed."""
    header = headers.get("X-Hub-Signature-256")
    algorithm, prefix = hashlib.sha256, "sha256="
    if not header:
        header = headers.get("X-Hub-Signature")
        algorithm, prefix = hashlib.sha1, "sha1="
    if not header:
        return frozenset(), "missing X-Hub-Signature-256 header"
    if not header.startswith(prefix):
        return frozenset(), f"signature must start with {prefix}"
    if not tokens:
        return frozenset(), "no HMAC token is configured for this repository"
    given = header[len(prefix) :].strip().encode()
    matched = set()
    # Compare with every token (no early exit) so timing says nothing about
    # which token, if any, is close.
    for token in set(tokens):
        expected = hmac.new(token, body, algorithm).hexdigest().encode()
        if hmac.compare_digest(expected, given):
            matched.add(token)
    return frozenset(matched), "" if matched else "signature does not match"


def signature_valid(
    body: bytes, headers, tokens: tuple[bytes, ...]
) -> tuple[bool, str]:
    """Check the signature against every token in constant time."""
    matched, reason = signed_by(body, headers, tokens)
    return bool(matched), reason
