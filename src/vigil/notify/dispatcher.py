"""One channel's delivery worker (asyncio): each ordering key's notifications are sent one at a time, in order:
the next of a key only once the receiver took the one before, refused it for good, or it expired. A key whose head
keeps failing waits out its back-off alone: other keys, and other channels, go on.

The loop: read the heads of the channel (each key's oldest pending notification, one indexed query), start a
delivery for each head that is due and whose key has none in flight (at most ``max_parallel`` keys at once), then
sleep until woken (a new notification, a delivery done), until the earliest back-off ends, or :data:`POLL_S`.

A key's delivery goes on with the key's next pending notification as soon as the receiver took one; the attempts
it made are written meanwhile, several keys' at a time in one transaction (:class:`AttemptWriter`), and the key is
handed back to the loop only when they are written. A failed attempt is written before the key moves on (its
back-off must be kept). A crash before an attempt is written sends that notification again after the restart:
delivery is at least once, and a receiver sees the first arrival of each notification in order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from vigil.domain.errors import StorageError
from vigil.domain.notifications import Attempt, DeliveryResult, Notification, Outcome, retry_delay_s
from vigil.ports import Clock, OutboxStore

log = logging.getLogger(__name__)
POLL_S = 1.0  # look at the outbox at least this often (a retry asked by another process, back-offs ending)
SEND_GRACE_S = 5.0  # a sender that overruns its own timeout by this much is cut off
STORAGE_PAUSE_S = 1.0  # after the outbox could not be written, wait before the key is tried again
T = TypeVar("T")


class Sender(Protocol):
    """One channel's way of sending (``webhook.WebhookSender``, ``mqtt.MqttSender``, ``email_sender.SmtpSender``)."""

    async def start(self) -> None: ...
    async def send(self, n: Notification) -> DeliveryResult: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    name: str
    timeout_s: float
    retry_initial_s: float
    retry_max_s: float
    max_parallel: int


class ChannelDispatcher:
    def __init__(
        self,
        settings: ChannelSettings,
        sender: Sender,
        store: OutboxStore,
        clock: Clock,
        executor: Executor | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.store = store
        self.clock = clock
        self.executor = executor
        self.jitter = jitter
        self._wake = asyncio.Event()
        self._busy: set[str] = set()  # keys with a delivery in flight
        self._ends = 0  # deliveries ended so far
        self._ended_at: dict[str, int] = {}  # key -> the value of _ends when its last delivery ended
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(settings.max_parallel)
        self._stopping: asyncio.Event | None = None
        self.writer = AttemptWriter(store, self._db)

    @property
    def name(self) -> str:
        return self.settings.name

    def wake(self) -> None:
        """Look at the outbox now (call in the loop's thread)."""
        self._wake.set()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def run(self, stopping: asyncio.Event, grace_s: float = 3.0) -> None:
        self._stopping = stopping
        await self.sender.start()
        writing = asyncio.create_task(self.writer.run(), name=f"attempts-{self.name}")
        try:
            while not stopping.is_set():
                self._wake.clear()
                try:
                    wait_s = await self._dispatch()
                except Exception:  # the outbox unreadable (StorageError), or a bug: the channel goes on
                    log.exception("channel=%s: cannot read the outbox", self.name)
                    wait_s = POLL_S
                await _first(self._wake.wait(), stopping.wait(), timeout_s=wait_s)
        finally:
            await self._finish(grace_s)
            await self.writer.close()
            await writing
            await self.sender.stop()

    async def _dispatch(self) -> float:
        """Start what is due; the seconds until the next back-off ends (at most POLL_S)."""
        ends_before = self._ends
        heads = await self._db(self.store.heads, self.name)
        now = self.clock.now_us()
        wait_s = POLL_S
        expired = False
        for n in heads:
            if n.key in self._busy or self._ended_at.get(n.key, 0) > ends_before:
                continue  # in flight, or ended while the heads were read (this head may be the one just sent)
            if n.expires_us <= now:
                expired = True
            elif n.next_attempt_us > now:
                wait_s = min(wait_s, (n.next_attempt_us - now) / 1e6)
            else:
                self._busy.add(n.key)
                task = asyncio.create_task(self._deliver(n), name=f"deliver-{self.name}-{n.key}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        if expired:
            gone = await self._db(self.store.expire, now, self.name)
            log.warning("channel=%s: %d notification(s) expired undelivered", self.name, gone)
            wait_s = 0.0
        return max(wait_s, 0.0)

    async def _deliver(self, first: Notification) -> None:
        written: list[asyncio.Future[None]] = []
        try:
            async with self._slots:
                n: Notification | None = first
                while n is not None:
                    attempt, next_us = await self._attempt(n)
                    if attempt.outcome != Outcome.DELIVERED:
                        await self._db(self.store.record_attempt, n.seq, attempt, next_us)
                        break
                    written.append(self.writer.put(n.seq, attempt, next_us))
                    n = await self._next_due(n)
                await asyncio.gather(*written)
        except StorageError:
            log.exception(
                "channel=%s camera=%s: could not record attempts; they will be sent again", self.name, first.key
            )
            await asyncio.sleep(STORAGE_PAUSE_S)
        finally:
            self._ends += 1
            self._ended_at[first.key] = self._ends
            self._busy.discard(first.key)
            self._wake.set()

    async def _next_due(self, n: Notification) -> Notification | None:
        """The key's next notification when it is due now (else the loop takes it up later)."""
        if self._stopping is not None and self._stopping.is_set():
            return None
        nxt = await self._db(self.store.next_pending, self.name, n.key, n.seq)
        now = self.clock.now_us()
        return nxt if nxt is not None and nxt.expires_us > now and nxt.next_attempt_us <= now else None

    async def _attempt(self, n: Notification) -> tuple[Attempt, int]:
        """Send one notification; the attempt and when to try it next (when it was not delivered)."""
        started_us, t0 = self.clock.now_us(), time.monotonic()
        try:
            result = await asyncio.wait_for(self.sender.send(n), self.settings.timeout_s + SEND_GRACE_S)
        except TimeoutError:
            result = DeliveryResult(Outcome.RETRY, error=f"no answer within {self.settings.timeout_s:g} s")
        except Exception as exc:  # a sender's bug must not stop the channel
            log.exception("channel=%s camera=%s: sending %s failed", self.name, n.key, n.id)
            result = DeliveryResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}")
        duration_ms = (time.monotonic() - t0) * 1000
        next_us = self.clock.now_us()
        if result.outcome == Outcome.RETRY:
            s = self.settings
            delay_s = retry_delay_s(
                n.attempts + 1, s.retry_initial_s, s.retry_max_s, self.jitter(), result.retry_after_s
            )
            next_us += int(delay_s * 1e6)
            log.warning(
                "channel=%s camera=%s: notification %s not delivered (attempt %d: %s); next in %.1f s",
                self.name,
                n.key,
                n.id,
                n.attempts + 1,
                result.error,
                delay_s,
            )
        elif result.outcome == Outcome.FAILED:
            log.error(
                "channel=%s camera=%s: notification %s refused for good: %s", self.name, n.key, n.id, result.error
            )
        return Attempt(started_us, result.outcome, duration_ms, result.status, result.error), next_us

    async def _finish(self, grace_s: float) -> None:
        """Let deliveries in flight end (up to ``grace_s``), then cut off the rest (they are sent again later)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_s)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)


async def _first(*waits: Any, timeout_s: float) -> None:
    """Wait until one of the awaitables is done or ``timeout_s`` passed; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class AttemptWriter:
    """Writes delivered attempts in batches: everything queued while the previous batch was being written goes
    in the next transaction (one commit, one fsync for many). ``put`` returns a future done when it is written."""

    def __init__(self, store: OutboxStore, db: Callable[..., Any]) -> None:
        self.store = store
        self._db = db
        self._queue: list[tuple[int, Attempt, int, asyncio.Future[None]]] = []
        self._kick = asyncio.Event()
        self._closing = False

    def put(self, seq: int, attempt: Attempt, next_us: int) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((seq, attempt, next_us, done))
        self._kick.set()
        return done

    async def run(self) -> None:
        while not (self._closing and not self._queue):
            await self._kick.wait()
            self._kick.clear()
            batch, self._queue = self._queue, []
            if not batch:
                continue
            try:
                await self._db(self.store.record_attempts, [(seq, a, nxt) for seq, a, nxt, _ in batch])
            except Exception as exc:  # StorageError, or a bug: the keys waiting on it must hear of it
                error = exc if isinstance(exc, StorageError) else StorageError(f"writing attempts failed: {exc}")
                for *_, done in batch:
                    done.set_exception(error)
                continue
            for *_, done in batch:
                done.set_result(None)

    async def close(self) -> None:
        """Write what is queued, then stop."""
        self._closing = True
        self._kick.set()
