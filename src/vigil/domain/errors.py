"""The one exception family of Vigil.

Every error Vigil raises on purpose is a :class:`VigilError` with a :class:`ErrorKind`. The API maps the
kind to an HTTP status in one place (``vigil.api.errors``); the CLI maps it to an exit code.

    VigilError
     ├── ConfigError        kind=invalid   bad configuration (path of the bad key in the message)
     ├── NotFound           kind=not_found a camera, segment or time range that does not exist
     ├── NoFootage          kind=not_found an export/playback range with nothing recorded
     ├── InvalidRequest     kind=invalid   a request with bad parameters
     ├── SourceError        kind=unavailable a camera that cannot be opened (reason in ``cause``)
     ├── StorageError       kind=storage   the disk or the catalog failed
     ├── Conflict           kind=conflict  it exists already (a user name)
     ├── Unauthenticated    kind=unauthenticated no (valid) session or token
     ├── Forbidden          kind=forbidden a user asked for what their role or grants do not allow
     └── Throttled          kind=throttled too many failed logins; try again later
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    STORAGE = "storage"
    CONFLICT = "conflict"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    THROTTLED = "throttled"


class VigilError(Exception):
    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(VigilError):
    kind = ErrorKind.INVALID


class NotFound(VigilError):
    kind = ErrorKind.NOT_FOUND


class NoFootage(NotFound):
    pass


class InvalidRequest(VigilError):
    kind = ErrorKind.INVALID


class SourceError(VigilError):
    """A stream could not be opened or read. ``cause`` is a short machine word (see ``GapCause``)."""

    kind = ErrorKind.UNAVAILABLE

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


class StorageError(VigilError):
    kind = ErrorKind.STORAGE


class Unauthenticated(VigilError):
    kind = ErrorKind.UNAUTHENTICATED


class Forbidden(VigilError):
    kind = ErrorKind.FORBIDDEN


class Throttled(VigilError):
    kind = ErrorKind.THROTTLED


class Conflict(VigilError):
    kind = ErrorKind.CONFLICT
