"""Small pieces the commands share: times given as arguments, and who runs the command."""

from __future__ import annotations

import getpass

from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import parse_instant


def instant_arg(name: str, text: str) -> int:
    """``--name``'s ISO 8601 time (or UTC microseconds); a clear error naming the option when it is not one."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise InvalidRequest(f"--{name}: {exc}") from None


def os_user() -> str:
    """The operating-system user running the command (for the audit log's detail)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
