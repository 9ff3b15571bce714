"""Cameras as documents: the ``cameras:`` entries of ``vigil.yaml`` as the console shows and sends them.

What leaves Vigil never carries a secret: a stream's ``password`` becomes ``password_set`` (true or false) and a
password written inside a URL shows as ``***``. What comes back is given its secrets again from the document on
disk: a stream without ``password`` keeps the one it had (``password: null`` removes it), and a URL whose
password is still ``***`` gets the stored one back, so a camera can be read, edited and saved without anyone
seeing or retyping a password.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from vigil.config.models import redact_url
from vigil.domain.errors import InvalidRequest
from vigil.domain.segment import STREAMS

SHOWN_PASSWORD = "***"  # noqa: S105 (what a hidden password looks like in a URL, not a password)


def _streams(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    streams = doc.get("streams")
    if not isinstance(streams, Mapping):
        return {}
    return {name: s for name in STREAMS if isinstance(s := streams.get(name), dict)}


def shown(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A camera's document as it may be shown: no password anywhere."""
    out = copy.deepcopy(dict(doc))
    for stream in _streams(out).values():
        stream["password_set"] = stream.pop("password", None) is not None
        if isinstance(stream.get("url"), str):
            stream["url"] = redact_url(stream["url"])
    return out


def with_secrets(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    """``new`` (as sent by an editor) with the secrets of ``old`` (as on disk) put back where it kept them."""
    out = copy.deepcopy(dict(new))
    before = _streams(old) if old is not None else {}
    for name, stream in _streams(out).items():
        stream.pop("password_set", None)
        had = before.get(name, {})
        if "password" not in stream and had.get("password") is not None and "password_env" not in stream:
            stream["password"] = had["password"]
        elif "password" in stream and stream["password"] is None:
            del stream["password"]
        url = stream.get("url")
        if isinstance(url, str) and _hidden_password(url):
            stream["url"] = _restore_url(url, had.get("url"), name)
    return out


def _hidden_password(url: str) -> bool:
    try:
        return urlsplit(url).password == SHOWN_PASSWORD
    except ValueError:
        return False


def _restore_url(url: str, stored: Any, stream: str) -> str:
    if isinstance(stored, str) and redact_url(stored) == url:
        return stored
    raise InvalidRequest(
        f"streams.{stream}.url: the password in the URL is hidden ({SHOWN_PASSWORD}) but the URL changed; type the "
        "password again, or give it as password / password_env"
    )


def changed_keys(old: Any, new: Any, prefix: str = "", depth: int = 3) -> list[str]:
    """The keys whose values differ between two documents (mappings compared key by key down to ``depth``
    levels; a list is one value). Names only, never values: the result may go to the audit log."""
    if isinstance(old, Mapping) and isinstance(new, Mapping) and depth > 0:
        keys: list[str] = []
        for key in sorted({*old, *new}, key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                keys.append(path)
            else:
                keys.extend(changed_keys(old[key], new[key], path, depth - 1))
        return keys
    return [] if old == new else [prefix or "(all)"]
