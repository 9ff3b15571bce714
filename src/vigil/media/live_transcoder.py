"""Live view with privacy masks burned in: one camera stream decoded, its masks filled in, encoded again with
libx264 and cut into one fragment per frame, for every viewer who may not see the camera unmasked (ADR 0012).

:class:`TranscodingLiveReader` is a :class:`~vigil.media.live_reader.LiveReader` whose connection decodes instead
of copying; it delivers the same items (:class:`StreamStarted` with the encoder's init segment, fragments from a
keyframe, :class:`StreamFailed`), so :class:`~vigil.media.live.LiveHub` shares it among its viewers like a copying
reader: one per (camera, stream, masks), started with the first masked viewer and stopped after the last.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from vigil.media.encoder import LIVE_H264, Fmp4Encoder, H264Settings
from vigil.media.live_reader import LiveItem, LiveReader, LiveSpec, StreamStarted
from vigil.media.sources import OpenedSource

log = logging.getLogger(__name__)

TICKS_PER_S = 90_000


class TranscodingLiveReader(LiveReader):
    """Reads one stream, passes every decoded picture through ``treat`` and encodes it again."""

    def __init__(
        self,
        spec: LiveSpec,
        deliver: Callable[[LiveItem], None],
        treat: Callable[[Any], Any],
        settings: H264Settings = LIVE_H264,
    ) -> None:
        super().__init__(spec, deliver)
        self._treat = treat
        self._settings = settings
        self.frames = 0  # pictures encoded (all connections)

    def _remux(self, source: OpenedSource) -> bool:
        """Decode, treat, encode until the source fails (raises) or the reader is stopped; True once started."""
        stream = source.stream
        rate = stream.average_rate or stream.guessed_rate or 25
        fps = float(rate) if 0 < float(rate) <= 120 else 25.0
        frame_s = 1.0 / fps
        encoder: Fmp4Encoder | None = None
        origin: float | None = None
        first_read: float | None = None
        try:
            for count, packet in enumerate(source.packets()):
                read_at = time.monotonic()
                if self._stop.is_set():
                    break
                if source.loop:  # a file plays at its own pace, as a camera would
                    first_read = first_read or read_at
                    if self._stop.wait(max(0.0, first_read + count * frame_s - read_at)):
                        break
                    read_at = time.monotonic()
                if encoder is None and not packet.is_keyframe:
                    continue  # the decoder starts at a keyframe
                for frame in packet.decode():
                    if encoder is None:
                        encoder = Fmp4Encoder(frame.width, frame.height, fps, settings=self._settings)
                        origin = read_at
                        started = StreamStarted(encoder.mime, encoder.init, encoder.width, encoder.height)
                        log.info(
                            "live %s: masked transcode %s, %dx%d", self.spec.label, encoder.mime, *frame_size(frame)
                        )
                        self._deliver(started)
                    assert origin is not None
                    for fragment in encoder.encode(
                        self._treat(frame), round((read_at - origin) * TICKS_PER_S), read_at
                    ):
                        self._deliver(fragment)
                    self.frames += 1
        finally:
            if encoder is not None:
                try:
                    encoder.close()  # its last fragment is dropped: a new connection starts with a new init anyway
                except Exception:
                    log.debug("live %s: error while closing the encoder", self.spec.label, exc_info=True)
        return encoder is not None


def frame_size(frame: Any) -> tuple[int, int]:
    return int(frame.width), int(frame.height)
