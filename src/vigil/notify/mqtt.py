"""MQTT: notifications published to a broker (aiomqtt, MQTT 3.1.1, QoS 1: delivered when the broker acknowledged
every publish of it).

Topics under the channel's prefix (default ``vigil``)::

    vigil/status               online / offline, retained: the node itself (the broker's last will says offline
                               when the node vanishes; a clean stop says it too)
    vigil/events               every event notification (JSON)
    vigil/<camera>/events      the same, for one camera
    vigil/<camera>/status      the camera's connection, retained (JSON, "state": "online" or "offline")
    vigil/alarms               alarm notifications (reserved for the alarm engine)

One connection per channel, kept by a task that reconnects with back-off (1 s doubling to 30 s) whenever the
broker drops it; while it is down, attempts fail at once ("not connected") and are retried by the dispatcher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl

import aiomqtt

from vigil.domain.notifications import DeliveryResult, Notification, NotificationKind, Outcome

log = logging.getLogger(__name__)
RECONNECT_INITIAL_S = 1.0
RECONNECT_MAX_S = 30.0
CONNECT_WAIT_S = 2.0  # an attempt made while (re)connecting waits this long for the connection


def topics(prefix: str, kind: str, key: str) -> list[tuple[str, bool]]:
    """The topics (and whether retained) a notification of ``kind`` about ``key`` is published to."""
    if kind == NotificationKind.EVENT:
        return [(f"{prefix}/events", False), *([(f"{prefix}/{key}/events", False)] if key else [])]
    if kind == NotificationKind.CAMERA_STATUS:
        return [(f"{prefix}/{key}/status", True)]
    if kind == NotificationKind.ALARM:
        return [(f"{prefix}/alarms", False)]
    if kind == NotificationKind.TICKET:
        return [(f"{prefix}/tickets", False)]
    return [(f"{prefix}/{kind}", False)]


class MqttSender:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        prefix: str,
        keepalive_s: int,
        timeout_s: float,
        username: str | None = None,
        password: str | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.client_id, self.prefix = host, port, client_id, prefix
        self.keepalive_s, self.timeout_s = keepalive_s, timeout_s
        self.username, self.password, self.tls = username, password, tls
        self.status_topic = f"{prefix}/status"
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_error = ""

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_connected(), name=f"mqtt-{self.client_id}")

    def _new_client(self) -> aiomqtt.Client:
        client = aiomqtt.Client(
            self.host,
            self.port,
            username=self.username,
            password=self.password,
            identifier=self.client_id,
            will=aiomqtt.Will(self.status_topic, b"offline", qos=1, retain=True),
            keepalive=self.keepalive_s,
            timeout=self.timeout_s,
            tls_context=self.tls,
            clean_session=True,
        )
        client.pending_calls_threshold = 10_000  # many cameras' publishes at once are normal here
        return client

    async def _keep_connected(self) -> None:
        delay = RECONNECT_INITIAL_S
        where = f"{self.host}:{self.port}"
        while True:
            try:
                async with self._new_client() as client:
                    await client.publish(self.status_topic, b"online", qos=1, retain=True)
                    self._client = client
                    self._connected.set()
                    log.info("mqtt %s: connected as %s", where, self.client_id)
                    delay = RECONNECT_INITIAL_S
                    async for _message in client.messages:  # nothing is subscribed: returns when the broker drops us
                        pass
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
                log.warning("mqtt %s: %s; reconnecting in %.1f s", where, self.last_error, delay)
            finally:
                self._client = None
                self._connected.clear()
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(RECONNECT_MAX_S, delay * 2)

    async def send(self, n: Notification) -> DeliveryResult:
        assert n.payload is not None
        if self._client is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), min(CONNECT_WAIT_S, self.timeout_s))
        client = self._client
        if client is None:
            why = f" ({self.last_error})" if self.last_error else ""
            return DeliveryResult(Outcome.RETRY, error=f"not connected to the broker {self.host}:{self.port}{why}")
        try:
            for topic, retain in topics(self.prefix, n.kind, n.key):
                await client.publish(topic, n.payload, qos=1, retain=retain, timeout=self.timeout_s)
        except aiomqtt.MqttError as exc:
            return DeliveryResult(Outcome.RETRY, error=f"publish not acknowledged: {exc or type(exc).__name__}")
        return DeliveryResult(Outcome.DELIVERED)

    async def stop(self) -> None:
        client = self._client
        if client is not None:  # a clean disconnect sends no last will: say offline ourselves
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await client.publish(self.status_topic, b"offline", qos=1, retain=True, timeout=2.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                await self._task
