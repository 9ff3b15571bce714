"""Webhooks: each notification POSTed as its JSON document, signed as Standard Webhooks (1.0) signs.

Headers of every request (a retry sends the same body with the same id, a new timestamp and signature)::

    content-type: application/json
    webhook-id: <the notification's id, a UUID; the same as the body's "id">
    webhook-timestamp: <Unix time of this attempt, in seconds>
    webhook-signature: v1,<base64 of HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<body>")>

The key is the channel's secret: a ``whsec_`` secret is base64 after the prefix (the Standard Webhooks form, which
its libraries verify as they are); any other secret is used as its UTF-8 bytes. A receiver checks the signature
over the raw body, refuses a timestamp more than five minutes from its own clock (:data:`REPLAY_WINDOW_S`, the
replay window) and drops a ``webhook-id`` it has seen (at-least-once delivery: after a crash or a lost answer the
same notification comes again). :func:`verify` is the check, in this module's terms.

Redirects are not followed (a 3xx is a failed attempt that says where the receiver pointed); a receiver that does
not answer within ``timeout_s`` is a failed attempt (``asyncio.timeout`` bounds the whole exchange, so a receiver
that trickles bytes cannot hold an attempt longer); the status decides between retrying and giving up
(``vigil.domain.notifications.http_result``). Proxy settings of the environment are not used.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping

import httpx

from vigil import __version__
from vigil.domain.errors import ConfigError
from vigil.domain.notifications import DeliveryResult, Notification, Outcome, http_result
from vigil.ports import Clock

SIGNATURE_VERSION = "v1"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of Standard Webhooks secrets, not a secret)
REPLAY_WINDOW_S = 300


def signing_key(secret: str) -> bytes:
    """The HMAC key of a channel's secret (see the module's docstring). ConfigError for a bad ``whsec_`` one."""
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("a webhook secret that starts with whsec_ must continue in base64") from None
        if not key:
            raise ConfigError("the webhook secret is empty after whsec_")
        return key
    return secret.encode()


def signature(key: bytes, message_id: str, timestamp_s: int, body: bytes) -> str:
    mac = hmac.new(key, f"{message_id}.{timestamp_s}.".encode() + body, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode()}"


def signed_headers(key: bytes, message_id: str, timestamp_s: int, body: bytes, content_type: str) -> dict[str, str]:
    return {
        "content-type": content_type,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": signature(key, message_id, timestamp_s, body),
        "user-agent": f"Vigil/{__version__}",
    }


def verify(key: bytes, headers: Mapping[str, str], body: bytes, now_s: int, window_s: int = REPLAY_WINDOW_S) -> bool:
    """What a receiver does: the timestamp is within the window and one of the signatures matches."""
    lower = {k.lower(): v for k, v in headers.items()}
    message_id, stamp, given = (lower.get(h, "") for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (message_id and stamp.isdigit() and given) or abs(now_s - int(stamp)) > window_s:
        return False
    expected = signature(key, message_id, int(stamp), body)
    return any(hmac.compare_digest(expected, part) for part in given.split())


class WebhookSender:
    """POSTs notifications to one URL (one connection pool per channel)."""

    def __init__(self, url: str, key: bytes, timeout_s: float, clock: Clock) -> None:
        self.url = url
        self.key = key
        self.timeout_s = timeout_s
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(follow_redirects=False, trust_env=False, timeout=httpx.Timeout(self.timeout_s))

    async def send(self, n: Notification) -> DeliveryResult:
        assert self._client is not None and n.payload is not None, "start() first; heads carry their payload"
        stamp = self.clock.now_us() // 1_000_000
        headers = signed_headers(self.key, n.id, stamp, n.payload, n.content_type)
        try:
            async with asyncio.timeout(self.timeout_s):
                request = self._client.build_request("POST", self.url, content=n.payload, headers=headers)
                response = await self._client.send(request, stream=True)
                try:
                    return http_result(
                        response.status_code,
                        response.headers.get("location", ""),
                        response.headers.get("retry-after", ""),
                    )
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return DeliveryResult(Outcome.RETRY, error=f"no answer from the receiver within {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return DeliveryResult(Outcome.RETRY, error=f"could not reach the receiver: {type(exc).__name__}: {exc}")

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
