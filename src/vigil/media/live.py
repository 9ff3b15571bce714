"""Live view: one reader per (camera, stream) shared by every viewer, fragments fanned out on the event loop.

A viewer subscribes and iterates over messages: text (JSON control messages) or bytes (ISO-BMFF)::

    {"type": "init", "codec": "video/mp4; codecs=\\"avc1.64001f\\"", "width": 640, "height": 360}
    <bytes: init segment (ftyp + moov)>
    <bytes: fragments (moof + mdat), starting at a keyframe>
    ...
    {"type": "error", "message": "rtsp://cam/...: connection refused"}    (the reader retries)
    {"type": "init", ...} <bytes: init segment> ...                           (after a reconnection)

- The reader starts with the first subscriber and stops ``grace_s`` after the last one leaves.
- A subscriber with privacy masks gets a transcoded stream with the masks burned in
  (:class:`~vigil.media.live_transcoder.TranscodingLiveReader`): one per (camera, stream, masks), shared by every
  masked viewer of it, running only while one watches; the copying reader serves everyone else.
- A new subscriber gets the current GOP at once (every fragment since the last keyframe), then live ones,
  so its first picture does not wait for the next keyframe.
- A slow subscriber never holds up the reader or anyone else: its queue is bounded, and when it overflows
  its queued fragments are dropped and it resumes at the next keyframe.

Everything here runs on one event loop (the one ``subscribe`` is first called from); reader threads only
hand items over with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from vigil.config.models import redact_url
from vigil.domain.privacy import NO_MASKS, Masks, mask_version
from vigil.media.fmp4 import Fragment
from vigil.media.live_reader import LiveItem, LiveReader, LiveSpec, StreamFailed, StreamStarted
from vigil.media.live_transcoder import TranscodingLiveReader
from vigil.media.masking import MaskPainter

log = logging.getLogger(__name__)

Message = str | bytes  # text: a JSON control message; bytes: an init segment or a fragment


@dataclass(frozen=True, slots=True)
class LiveLimits:
    grace_s: float = 5.0  # a reader with no subscriber left stops after this
    queue_fragments: int = 90  # per subscriber; beyond this (or queue_bytes) it skips to the next keyframe
    queue_bytes: int = 8 << 20
    gop_fragments: int = 600  # the cached GOP is dropped beyond these (new viewers then wait for a keyframe)
    gop_bytes: int = 16 << 20
    timeout_s: float = 10.0  # socket timeout of the camera connection
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0


class LiveSubscription:
    """One viewer's messages, in order. Iterate with ``async for``; ends when the hub closes."""

    def __init__(self, camera_id: str, stream: str, limits: LiveLimits) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self.dropped = 0  # fragments dropped because this viewer fell behind
        self._limits = limits
        self._queue: deque[tuple[Message, bool]] = deque()  # (message, is a droppable fragment)
        self._fragments = 0
        self._bytes = 0
        self._allowance = (0, 0)  # (fragments, bytes) over the limits while the GOP sent on joining drains
        self._skip_to_keyframe = True  # until a GOP or a keyframe has been queued
        self._closed = False
        self._wake = asyncio.Event()

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> Message:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wake.clear()
            await self._wake.wait()
        message, fragment = self._queue.popleft()
        if fragment:
            self._fragments -= 1
            self._bytes -= len(message)
            if self._fragments <= self._limits.queue_fragments:
                self._allowance = (0, 0)
        return message

    def pending(self) -> int:
        """Messages queued and not yet taken."""
        return len(self._queue)

    # --- called by the hub, on the loop ----------------------------------------------------------------
    def _control(self, message: Message) -> None:
        self._queue.append((message, False))
        self._wake.set()

    def _burst(self, gop: list[Fragment]) -> None:
        """The current GOP on joining: queued whole (a long GOP may exceed the limits until it drains)."""
        self._allowance = (len(gop), sum(len(f.data) for f in gop))
        for fragment in gop:
            self._fragment(fragment)

    def _fragment(self, fragment: Fragment) -> None:
        if self._skip_to_keyframe:
            if not fragment.keyframe:
                return
            self._skip_to_keyframe = False
        limits, (extra_fragments, extra_bytes) = self._limits, self._allowance
        if (
            self._fragments >= limits.queue_fragments + extra_fragments
            or self._bytes + len(fragment.data) > limits.queue_bytes + extra_bytes
        ):
            self.dropped += self._fragments
            self._queue = deque(item for item in self._queue if not item[1])
            self._fragments = self._bytes = 0
            self._allowance = (0, 0)
            if not fragment.keyframe:
                self._skip_to_keyframe = True
                self.dropped += 1
                return
        self._queue.append((fragment.data, True))
        self._fragments += 1
        self._bytes += len(fragment.data)
        self._wake.set()

    def _restart(self) -> None:
        """A new stream is coming (its init follows): what is still queued of the old one is dropped, and the
        new one is taken from its first keyframe."""
        self.dropped += self._fragments
        self._queue.clear()
        self._fragments = self._bytes = 0
        self._allowance = (0, 0)
        self._skip_to_keyframe = True

    def _close(self) -> None:
        self._closed = True
        self._wake.set()


@dataclass(eq=False)
class _Channel:
    """One (camera, stream, mask version): its reader, its viewers, what a new viewer needs first."""

    key: tuple[str, str, str]
    reader: LiveReader
    subscribers: set[LiveSubscription] = field(default_factory=set)
    started: StreamStarted | None = None
    gop: list[Fragment] = field(default_factory=list)
    gop_bytes: int = 0
    error: str | None = None  # the last failure since the stream was last up
    retire: asyncio.TimerHandle | None = None


def _init_message(started: StreamStarted) -> str:
    return json.dumps({"type": "init", "codec": started.mime, "width": started.width, "height": started.height})


def _error_message(message: str) -> str:
    return json.dumps({"type": "error", "message": message})


class LiveHub:
    """Shares one :class:`LiveReader` per (camera, stream) among all of its viewers.

    ``resolve(camera_id, stream)`` gives the stream's URL (with credentials; it may raise, for instance
    ``NotFound``); only its redacted form is ever logged or sent to viewers.
    """

    def __init__(
        self,
        resolve: Callable[[str, str], str],
        limits: LiveLimits | None = None,
        *,
        display: Callable[[str], str] = redact_url,
    ) -> None:
        self._resolve = resolve
        self._display = display
        self.limits = limits or LiveLimits()
        self._channels: dict[tuple[str, str, str], _Channel] = {}
        self._retired: list[LiveReader] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @asynccontextmanager
    async def subscribe(self, camera_id: str, stream: str, masks: Masks = NO_MASKS) -> AsyncIterator[LiveSubscription]:
        """Watch one stream: ``async with hub.subscribe(cam, "sub") as sub: async for message in sub: ...``; with
        ``masks``, the stream transcoded with them filled in."""
        if self._closed:
            raise RuntimeError("the live hub is closed")
        self._adopt(asyncio.get_running_loop())
        key = (camera_id, stream, mask_version(masks))
        channel = self._channels.get(key) or self._open(key, masks)
        subscription = LiveSubscription(camera_id, stream, self.limits)
        self._join(channel, subscription)
        try:
            yield subscription
        finally:
            subscription._close()
            self._leave(channel, subscription)

    def drop(self, camera_id: str) -> None:
        """Stop the camera's readers and end its viewers' subscriptions (its settings changed: a viewer that
        reconnects gets a reader on the new URL). Safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def drop() -> None:
            for key, channel in list(self._channels.items()):
                if key[0] == camera_id:
                    self._stop(channel)
                    for subscription in channel.subscribers:
                        subscription._close()

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(drop)

    def streams(self, masked: bool = False) -> list[tuple[str, str]]:
        """The (camera, stream) pairs with a copying reader (``masked``: a transcoding one) running or in its grace
        period."""
        return sorted({(cam, stream) for cam, stream, version in self._channels if bool(version) == masked})

    def viewers(self, camera_id: str, stream: str, masked: bool = False) -> int:
        return sum(
            len(channel.subscribers)
            for (cam, name, version), channel in self._channels.items()
            if (cam, name) == (camera_id, stream) and bool(version) == masked
        )

    async def close(self, timeout_s: float = 5.0) -> None:
        """Stop every reader, end every subscription, and wait up to ``timeout_s`` for the reader threads."""
        self._closed = True
        for channel in list(self._channels.values()):
            self._stop(channel)
            for subscription in channel.subscribers:
                subscription._close()
        readers, self._retired = self._retired, []
        if readers:
            await asyncio.to_thread(_join_all, readers, timeout_s)

    # --- channels -----------------------------------------------------------------------------------
    def _adopt(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve from ``loop``. A hub moves to a new loop only once its old one is closed (a restarted server)."""
        if self._loop is loop:
            return
        if self._loop is not None and not self._loop.is_closed():
            raise RuntimeError("the live hub serves another event loop")
        for channel in list(self._channels.values()):
            self._stop(channel)
        self._loop = loop

    def _open(self, key: tuple[str, str, str], masks: Masks) -> _Channel:
        url = self._resolve(key[0], key[1])
        limits = self.limits
        spec = LiveSpec(
            url=url,
            display_url=self._display(url),
            label="/".join(key[:2]) + ("/masked" if masks else ""),
            timeout_s=limits.timeout_s,
            reconnect_initial_s=limits.reconnect_initial_s,
            reconnect_max_s=limits.reconnect_max_s,
        )

        def deliver(item: LiveItem) -> None:
            self._from_thread(channel, item)

        reader = TranscodingLiveReader(spec, deliver, MaskPainter(masks).frame) if masks else LiveReader(spec, deliver)
        channel = _Channel(key, reader)
        self._channels[key] = channel
        channel.reader.start()
        log.info("camera=%s stream=%s: live %s started", key[0], key[1], "transcoder" if masks else "reader")
        return channel

    def _join(self, channel: _Channel, subscription: LiveSubscription) -> None:
        if channel.retire is not None:
            channel.retire.cancel()
            channel.retire = None
        channel.subscribers.add(subscription)
        if channel.started is not None:
            subscription._control(_init_message(channel.started))
            subscription._control(channel.started.init)
            subscription._burst(channel.gop)
        elif channel.error is not None:
            subscription._control(_error_message(channel.error))

    def _leave(self, channel: _Channel, subscription: LiveSubscription) -> None:
        channel.subscribers.discard(subscription)
        if channel.subscribers or self._closed or self._channels.get(channel.key) is not channel:
            return
        assert self._loop is not None
        channel.retire = self._loop.call_later(self.limits.grace_s, self._retire, channel)

    def _retire(self, channel: _Channel) -> None:
        channel.retire = None
        if not channel.subscribers and self._channels.get(channel.key) is channel:
            log.info("camera=%s stream=%s: no viewer left, live reader stopped", *channel.key[:2])
            self._stop(channel)

    def _stop(self, channel: _Channel) -> None:
        if channel.retire is not None:
            channel.retire.cancel()
            channel.retire = None
        channel.reader.stop()
        self._channels.pop(channel.key, None)
        self._retired = [r for r in self._retired if not r.join(0)]
        self._retired.append(channel.reader)

    # --- items from reader threads ------------------------------------------------------------------
    def _from_thread(self, channel: _Channel, item: LiveItem) -> None:
        loop = self._loop
        if loop is None or channel.reader.stopping:
            return
        try:
            loop.call_soon_threadsafe(self._on_item, channel, item)
        except RuntimeError:  # the loop is closed: nobody is watching any more
            channel.reader.stop()

    def _on_item(self, channel: _Channel, item: LiveItem) -> None:
        if self._channels.get(channel.key) is not channel:
            return  # a reader that was stopped meanwhile
        if isinstance(item, Fragment):
            self._on_fragment(channel, item)
        elif isinstance(item, StreamStarted):
            channel.started, channel.error = item, None
            channel.gop, channel.gop_bytes = [], 0
            text = _init_message(item)
            for subscription in channel.subscribers:
                subscription._restart()
                subscription._control(text)
                subscription._control(item.init)
        elif isinstance(item, StreamFailed):
            channel.started = None
            channel.gop, channel.gop_bytes = [], 0
            if item.message != channel.error:
                channel.error = item.message
                text = _error_message(item.message)
                for subscription in channel.subscribers:
                    subscription._control(text)

    def _on_fragment(self, channel: _Channel, fragment: Fragment) -> None:
        if fragment.keyframe:
            channel.gop, channel.gop_bytes = [], 0
        if channel.gop or fragment.keyframe:
            limits = self.limits
            if len(channel.gop) < limits.gop_fragments and channel.gop_bytes + len(fragment.data) <= limits.gop_bytes:
                channel.gop.append(fragment)
                channel.gop_bytes += len(fragment.data)
            else:  # a very long GOP: new viewers wait for the next keyframe instead
                channel.gop, channel.gop_bytes = [], 0
        for subscription in channel.subscribers:
            subscription._fragment(fragment)


def _join_all(readers: list[LiveReader], timeout_s: float) -> None:
    for reader in readers:
        reader.join(timeout_s)
