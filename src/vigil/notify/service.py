"""The notification service: one thread running an asyncio loop with a dispatcher per channel, plus the outbox's
housekeeping (expiry, removal of old finished notifications). Built from the configuration by the runtime:
:func:`notification_router` for the catalog's event hook (which notifications an event makes, rendered as each
channel sends them: :func:`channel_plans`) and
:meth:`NotificationService.from_config` for delivery (secrets read from the environment here, at start-up, so a
missing one stops the node with a clear message rather than failing every delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vigil.config.models import Config
from vigil.config.notifications import EmailChannel, MqttChannel, WebhookChannel, secret_from_env
from vigil.domain.errors import ConfigError, StorageError
from vigil.domain.notifications import JSON_CONTENT_TYPE, Route, Site, json_payload
from vigil.notify.dispatcher import ChannelDispatcher, ChannelSettings, Sender
from vigil.notify.email_message import EmailFormat
from vigil.notify.email_sender import SmtpSender
from vigil.notify.mqtt import MqttSender
from vigil.notify.webhook import WebhookSender, signing_key
from vigil.ports import Clock, OutboxStore
from vigil.usecases.notifications import ChannelPlan, NotificationRouter

log = logging.getLogger(__name__)
HOUSEKEEPING_S = 60.0
EMAIL_CONTENT_TYPE = "message/rfc822"

AnyChannel = WebhookChannel | MqttChannel | EmailChannel


def channel_plans(config: Config) -> list[ChannelPlan]:
    """How each configured channel renders its notifications."""
    plans = []
    for ch in config.notifications.channels:
        if isinstance(ch, EmailChannel):
            fmt = EmailFormat(ch.sender, ch.to, config.site.language, config.site.timezone, ch.attach_snapshot)
            plans.append(
                ChannelPlan(
                    ch.name,
                    ch.kind,
                    EMAIL_CONTENT_TYPE,
                    fmt.render,
                    ch.expire_after_s,
                    wants_snapshot=ch.attach_snapshot,
                )
            )
        else:
            status = isinstance(ch, MqttChannel) and ch.camera_status
            plans.append(
                ChannelPlan(ch.name, ch.kind, JSON_CONTENT_TYPE, _json, ch.expire_after_s, camera_status=status)
            )
    return plans


def read_snapshot(root: Path, relpath: str) -> bytes | None:
    """An event's snapshot JPEG (``data["snapshot"]``, relative to the snapshots folder); None when it is gone or
    points outside the folder."""
    path = (root / relpath).resolve()
    if not path.is_relative_to(root.resolve()):
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def notification_router(config: Config, clock: Clock, snapshots: Path) -> NotificationRouter:
    """Which notifications each event makes, as configured (``notifications.routes``)."""
    routes = [
        Route(
            channel=r.channel,
            types=frozenset(r.types),
            cameras=frozenset(r.cameras),
            labels=frozenset(label.strip().lower() for label in r.labels),
            zones=frozenset(r.zones),
            min_severity=r.min_severity,
            changes=frozenset(r.changes),
        )
        for r in config.notifications.routes
    ]
    site = Site(config.site.name, {c.id: c.name for c in config.cameras}, config.notifications.public_url or "")
    return NotificationRouter(channel_plans(config), routes, site, clock, lambda rel: read_snapshot(snapshots, rel))


def _json(document: Mapping[str, object], _snapshot: bytes | None) -> bytes:
    return json_payload(document)


def tls_context(channel: str, ca_file: str | None, base: Path) -> ssl.SSLContext:
    """A client TLS context that verifies the server (against ``ca_file`` when given)."""
    if ca_file is None:
        return ssl.create_default_context()
    path = base / ca_file
    try:
        return ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"notifications channel {channel!r}: cannot read ca_file {path}: {exc}") from None


def sender_factory(ch: AnyChannel, base: Path, clock: Clock, environ: Mapping[str, str] | None) -> Callable[[], Sender]:
    """How to make the channel's sender inside the service's loop; secrets and certificates are read now."""
    if isinstance(ch, WebhookChannel):
        try:
            key = signing_key(secret_from_env(ch.name, ch.secret_env, environ))
        except ConfigError as exc:
            raise ConfigError(f"notifications channel {ch.name!r}: {exc.message}") from None
        return lambda: WebhookSender(ch.url, key, ch.timeout_s, clock)
    password = secret_from_env(ch.name, ch.password_env, environ) if ch.password_env else None
    if isinstance(ch, MqttChannel):
        tls = tls_context(ch.name, ch.ca_file, base) if ch.tls else None
        return lambda: MqttSender(
            ch.host,
            ch.effective_port(),
            client_id=ch.client_id or f"vigil-{ch.name}",
            prefix=ch.topic_prefix,
            keepalive_s=ch.keepalive_s,
            timeout_s=ch.timeout_s,
            username=ch.username,
            password=password,
            tls=tls,
        )
    smtp_tls = tls_context(ch.name, ch.ca_file, base)
    return lambda: SmtpSender(
        ch.host, ch.effective_port(), ch.security, ch.sender, ch.to, ch.timeout_s, smtp_tls, ch.username, password
    )


class NotificationService:
    """Runs the dispatchers in a thread of their own; ``wake()`` may be called from any thread."""

    def __init__(
        self,
        channels: list[tuple[ChannelSettings, Callable[[], Sender]]],
        store: OutboxStore,
        clock: Clock,
        keep_finished_s: float,
    ) -> None:
        self.channels = channels
        self.store = store
        self.clock = clock
        self.keep_finished_s = keep_finished_s
        self.dispatchers: list[ChannelDispatcher] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._db = ThreadPoolExecutor(max_workers=2, thread_name_prefix="outbox-db")

    @classmethod
    def from_config(
        cls, config: Config, base: Path, store: OutboxStore, clock: Clock, environ: Mapping[str, str] | None = None
    ) -> NotificationService:
        channels = [
            (
                ChannelSettings(c.name, c.timeout_s, c.retry_initial_s, c.retry_max_s, c.max_parallel),
                sender_factory(c, base, clock, environ),
            )
            for c in config.notifications.channels
        ]
        return cls(channels, store, clock, config.notifications.keep_finished_days * 86400)

    def start(self) -> None:
        if not self.channels:
            return
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="notifications", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self.dispatchers = [ChannelDispatcher(s, make(), self.store, self.clock, self._db) for s, make in self.channels]
        self._ready.set()
        runs = [asyncio.create_task(d.run(self._stopping)) for d in self.dispatchers]
        keeper = asyncio.create_task(self._housekeeping(self._stopping))
        await asyncio.gather(*runs, keeper, return_exceptions=True)

    async def _housekeeping(self, stopping: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            now = self.clock.now_us()
            try:
                expired = await loop.run_in_executor(self._db, self.store.expire, now, None)
                pruned = await loop.run_in_executor(self._db, self.store.prune, now - int(self.keep_finished_s * 1e6))
                if expired or pruned:
                    log.info("outbox: %d notification(s) expired, %d old one(s) removed", expired, pruned)
            except StorageError:
                log.exception("outbox housekeeping failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), HOUSEKEEPING_S)

    def wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake_all)

    def _wake_all(self) -> None:
        for d in self.dispatchers:
            d.wake()

    def stop(self, timeout_s: float = 10.0) -> None:
        loop, stopping = self._loop, self._stopping
        if self._thread is None or loop is None or stopping is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(stopping.set)
        self._thread.join(timeout_s)
        self._db.shutdown(wait=False)
