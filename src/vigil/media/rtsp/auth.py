"""Answers to an RTSP server's ``401 Unauthorized`` (RFC 2617 / RFC 7616 as RTSP uses them): Basic and Digest.

Digest is preferred when a server offers both; MD5 and SHA-256 (with or without ``-sess``), ``qop=auth`` or no
qop. A ``stale=true`` challenge means only the nonce expired: the same credentials are tried again with the new
one. Pure: the client passes the challenge in and puts the answer on every following request.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass

from vigil.domain.segment import GapCause
from vigil.media.rtsp.messages import RtspProtocolError

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str  # never logged

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str  # "basic" or "digest"
    params: dict[str, str]

    @property
    def stale(self) -> bool:
        return self.params.get("stale", "").lower() == "true"


def parse_challenges(values: list[str]) -> list[Challenge]:
    """Every challenge in the ``WWW-Authenticate`` headers (one per header, as cameras send them)."""
    found: list[Challenge] = []
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        params: dict[str, str] = {}
        for match in _PARAM.finditer(rest):
            raw = match.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            params[match.group(1).lower()] = raw
        if scheme:
            found.append(Challenge(scheme.lower(), params))
    return found


def choose(challenges: list[Challenge]) -> Challenge:
    """The strongest challenge this client can answer: Digest (SHA-256, then MD5), then Basic."""
    for algorithm in ("SHA-256", "MD5"):
        for challenge in challenges:
            if challenge.scheme == "digest" and _algorithm(challenge).removesuffix("-SESS") == algorithm:
                return challenge
    for challenge in challenges:
        if challenge.scheme == "basic":
            return challenge
    offered = ", ".join(sorted({c.scheme for c in challenges})) or "none"
    raise RtspProtocolError(
        f"the camera asks for an authentication scheme Vigil does not speak ({offered})", GapCause.AUTH_FAILED
    )


def _algorithm(challenge: Challenge) -> str:
    return challenge.params.get("algorithm", "MD5").upper()


class Authenticator:
    """Builds the ``Authorization`` header for each request once a challenge has been answered."""

    def __init__(self, credentials: Credentials, challenge: Challenge) -> None:
        if challenge.scheme == "digest" and "nonce" not in challenge.params:
            raise RtspProtocolError("a Digest challenge without a nonce", GapCause.AUTH_FAILED)
        self._credentials = credentials
        self.challenge = challenge
        self._count = 0
        self._cnonce = os.urandom(8).hex()

    def header(self, method: str, uri: str) -> str:
        if self.challenge.scheme == "basic":
            token = f"{self._credentials.username}:{self._credentials.password}".encode()
            return "Basic " + base64.b64encode(token).decode("ascii")
        return self._digest(method, uri)

    def _digest(self, method: str, uri: str) -> str:
        params = self.challenge.params
        algorithm = _algorithm(self.challenge)
        digest = _HASHES[algorithm.removesuffix("-SESS")]

        def h(text: str) -> str:
            return digest(text.encode("utf-8")).hexdigest()

        realm, nonce = params.get("realm", ""), params["nonce"]
        user, password = self._credentials.username, self._credentials.password
        ha1 = h(f"{user}:{realm}:{password}")
        if algorithm.endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{self._cnonce}")
        ha2 = h(f"{method}:{uri}")
        qops = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
        fields = [f'username="{_quote(user)}"', f'realm="{_quote(realm)}"', f'nonce="{_quote(nonce)}"', f'uri="{uri}"']
        if "auth" in qops:
            self._count += 1
            nc = f"{self._count:08x}"
            response = h(f"{ha1}:{nonce}:{nc}:{self._cnonce}:auth:{ha2}")
            fields += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{self._cnonce}"']
        else:
            fields.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
        if "algorithm" in params:
            fields.append(f"algorithm={params['algorithm']}")
        if "opaque" in params:
            fields.append(f'opaque="{_quote(params["opaque"])}"')
        return "Digest " + ", ".join(fields)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
