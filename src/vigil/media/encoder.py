"""H.264 encoding with libx264 through PyAV: the price of burned-in privacy masks and of redaction (ADR 0012).

Everything else in Vigil copies packets; only a picture that must change (masks filled in, faces blurred) is
decoded and encoded again. Two sinks take the encoded pictures:

- :class:`Fmp4Encoder`: fragmented MP4 in memory for Media Source Extensions (live view, playback): an init
  segment, then fragments, like :class:`vigil.media.fmp4.Fmp4Remuxer` makes from copied packets.
- :class:`FileEncoder`: one seekable MP4 file (``+faststart``) written under a temporary name, fsynced and renamed.

Pictures are given with their time in ticks of :data:`TIME_BASE` (90 kHz), increasing; no B-frames are made, so
decode order is presentation order (what a fragment per frame and MSE want).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vigil.domain.errors import StorageError
from vigil.durable_files import fsync_dir, fsync_file
from vigil.media.fmp4 import LIVE_OPTIONS, BoxSink, Fragment, FragmentCutter, mse_mime

log = logging.getLogger(__name__)

TIME_BASE = Fraction(1, 90_000)
PLAYBACK_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


@dataclass(frozen=True, slots=True)
class H264Settings:
    """libx264's settings. ``veryfast`` re-encodes 720p at about 67 fps on one core (STACK.md); ``zerolatency``
    (live) keeps no pictures back for look-ahead."""

    preset: str = "veryfast"
    crf: int = 23
    gop_s: float = 1.0  # a keyframe every second: where a player (or a new live viewer) can start
    tune: str | None = None
    threads: int = 1

    def options(self, fps: float) -> dict[str, str]:
        gop = str(max(1, round(self.gop_s * fps)))
        opts = {"preset": self.preset, "crf": str(self.crf), "g": gop, "keyint_min": gop, "bf": "0"}
        opts["sc_threshold"] = "0"  # keyframes only on the GOP's beat: fragments of even length
        if self.tune:
            opts["tune"] = self.tune
        return opts


LIVE_H264 = H264Settings(preset="veryfast", tune="zerolatency", gop_s=1.0)


def even(size: int) -> int:
    """yuv420p needs even sides."""
    return max(2, size - size % 2)


def _add_stream(container: Any, width: int, height: int, fps: float, settings: H264Settings) -> Any:
    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = even(width), even(height), "yuv420p"
    stream.codec_context.time_base = TIME_BASE
    stream.codec_context.thread_count = settings.threads
    stream.codec_context.options = settings.options(fps)
    return stream


def _prepared(frame: Any, stream: Any, pts: int) -> Any:
    """The picture in the encoder's size and pixel format, at ``pts`` (90 kHz ticks)."""
    if frame.format.name != "yuv420p" or frame.width != stream.width or frame.height != stream.height:
        frame = frame.reformat(width=stream.width, height=stream.height, format="yuv420p")
    frame.pts, frame.time_base = pts, TIME_BASE
    frame.pict_type = 0  # let the encoder choose (a decoded frame carries its old picture type)
    return frame


class Fmp4Encoder:
    """Encodes pictures into fragmented MP4 in memory: :attr:`init` at once, then :meth:`encode` returns the
    fragments completed (one per picture with the live options, one per GOP with :data:`PLAYBACK_OPTIONS`)."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        *,
        settings: H264Settings = LIVE_H264,
        options: Mapping[str, str] = LIVE_OPTIONS,
    ) -> None:
        self._sink = BoxSink()
        self._out = av.open(self._sink, "w", format="mp4", options=dict(options))
        self._stream = _add_stream(self._out, width, height, fps, settings)
        self._out.start_encoding()
        self.init = b"".join(box for _, box in self._sink.take())
        self.mime = mse_mime("h264", bytes(self._stream.codec_context.extradata or b""))
        self.width, self.height = int(self._stream.width), int(self._stream.height)
        self._cutter = FragmentCutter(self._sink)
        self._last_pts: int | None = None
        self._closed = False
        self.frame_count = 0

    def encode(self, frame: Any, pts: int, read_at: float | None = None) -> list[Fragment]:
        """Encode one picture at ``pts`` (90 kHz ticks; nudged forward when it does not increase)."""
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        self._cutter.note(read_at)
        for packet in self._stream.encode(_prepared(frame, self._stream, pts)):
            self._out.mux(packet)
        self.frame_count += 1
        return self._cutter.fragments()

    def close(self) -> list[Fragment]:
        """Flush the encoder and the muxer: the last fragments. Safe to call twice."""
        if self._closed:
            return []
        self._closed = True
        try:
            for packet in self._stream.encode(None):
                self._out.mux(packet)
        finally:
            self._out.close()
        return self._cutter.fragments()


class FileEncoder:
    """Encodes pictures into one MP4 file (index first, for seeking), published by :meth:`commit`."""

    def __init__(self, out_path: Path, width: int, height: int, fps: float, settings: H264Settings) -> None:
        self.out_path = out_path
        self._tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
        try:
            self._out = av.open(str(self._tmp), "w", format="mp4", options={"movflags": "+faststart"})
            self._stream = _add_stream(self._out, width, height, fps, settings)
        except (av.FFmpegError, OSError) as exc:
            self._tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {out_path}: {exc}") from exc
        self._last_pts: int | None = None
        self._open = True
        self.frame_count = 0

    def encode(self, frame: Any, pts: int) -> None:
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        try:
            self._out.mux(self._stream.encode(_prepared(frame, self._stream, pts)))
        except (av.FFmpegError, OSError) as exc:
            raise StorageError(f"cannot write {self.out_path}: {exc}") from exc
        self.frame_count += 1

    def commit(self) -> int:
        """Flush, close, fsync, rename to ``out_path``; the size in bytes."""
        try:
            self._out.mux(self._stream.encode(None))
            self._close()
            fsync_file(self._tmp)
            self._tmp.replace(self.out_path)
            fsync_dir(self.out_path.parent)
        except (av.FFmpegError, OSError) as exc:
            self.abort()
            raise StorageError(f"cannot write {self.out_path}: {exc}") from exc
        return self.out_path.stat().st_size

    def abort(self) -> None:
        try:
            self._close()
        except (av.FFmpegError, OSError) as exc:
            log.debug("closing an aborted %s failed: %s", self._tmp, exc)
        self._tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._open:
            self._open = False
            self._out.close()
