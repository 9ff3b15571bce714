"""An analysis worker process: decodes each camera's analysis stream at the analysis rate and hands the small
luminance frames to that camera's analyser, sending what it reports up the worker's pipe.

Started by :class:`vigil.media.supervisor.WorkerSupervisor` with ``target=analysis_worker_main``. The analyser
is built inside the worker by ``factory(job, link)`` (a top-level function given by the composition root, so this
module never imports the analysis package): it needs only ``feed(gray, at_us, picture)`` and ``stop(at_us)``.
``link`` is the camera's :class:`~vigil.media.detector_link.DetectorClient` when the job names a detector;
``picture()`` makes the colour frame at ``picture_width`` only when first asked for (by the analyser or for a
snapshot), once per frame.

When a stream opens the worker ends the camera's ``analysis:down`` event, if the node opened one when a worker
died: the gap in analysis is then recorded from the death to the resumption. Recording runs in other processes;
nothing here can stop it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vigil.domain.errors import SourceError
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message
from vigil.domain.rules import Rule
from vigil.durable_files import part_path, publish_part
from vigil.media.detector_link import DetectorClient
from vigil.media.sources import OpenedSource, open_source
from vigil.media.worker import Loop, PipeSender, StreamThreads, run_until_stopped
from vigil.ports import Clock, DetectionLink, FrameAnalyser, Pictured, SystemClock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    camera_id: str
    stream: str
    url: str  # with credentials: never log it
    display_url: str
    fps: float = 5.0
    width: int = 320  # the analysed frame's width; the height keeps the picture's aspect (even)
    timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0
    motion: bool = True
    faults: bool = True
    timezone: str = "UTC"  # the site's, for descriptions
    snapshot_dir: str = ""  # where event snapshots go ("" = none)
    motion_mask: tuple[tuple[tuple[float, float], ...], ...] = ()  # normalised polygons whose motion is ignored
    detector_address: str = ""  # "" = no object detection
    detector_key: bytes = b""
    picture_width: int = 640  # width of the colour picture the detector is given and snapshots are made of
    model_input: tuple[int, int] = (416, 416)
    rules: tuple[Rule, ...] = ()
    report_objects: bool = True
    generation: int = 0  # a new value restarts the camera's analysis afresh (its device replaced: a new reference)


AnalyserFactory = Callable[[AnalysisJob, DetectionLink | None], FrameAnalyser]


class StreamAnalyser:
    """One camera's decode-and-analyse loop, reconnecting with back-off."""

    def __init__(self, job: AnalysisJob, analyser: FrameAnalyser, send: Callable[[Any], None], clock: Clock) -> None:
        self.job, self._analyser, self._send, self._clock = job, analyser, send, clock

    def run(self, stop: threading.Event) -> None:
        delay = self.job.reconnect_initial_s
        while not stop.is_set():
            try:
                source = open_source(self.job.url, display_url=self.job.display_url, timeout_s=self.job.timeout_s)
            except SourceError as exc:
                log.info("camera=%s: analysis cannot open the stream: %s", self.job.camera_id, exc.message)
            else:
                self._send(AnalysisEventEnd(self.job.camera_id, "analysis:down", self._clock.now_us()))
                try:
                    self._analyse(source, stop)
                    delay = self.job.reconnect_initial_s
                except Exception as exc:
                    log.warning("camera=%s: analysis stream failed: %s", self.job.camera_id, exc)
                finally:
                    source.close()
                    for msg in self._analyser.stop(self._clock.now_us()):
                        self._send(msg.message if isinstance(msg, Pictured) else msg)
            if stop.wait(delay):
                return
            delay = min(delay * 2, self.job.reconnect_max_s)

    def _analyse(self, source: OpenedSource, stop: threading.Event) -> None:
        period_us = int(1e6 / self.job.fps)
        next_us = 0
        pace = _Pace()
        for packet in source.packets():
            if stop.is_set():
                return
            for frame in packet.decode():
                if source.loop and frame.time is not None:  # a simulation file: keep real-time pace
                    ahead = pace.ahead_s(float(frame.time))
                    if ahead > 0 and stop.wait(ahead):
                        return
                now = self._clock.now_us()
                if now < next_us:  # not analysed; a detector reply that arrived meanwhile is taken now
                    for msg in self._analyser.collect(now):
                        self._send(self._with_snapshot(msg, _colour(frame, self.job.picture_width)))
                    continue
                next_us = max(next_us + period_us, now - period_us)
                width = self.job.width
                height = max(2, round(frame.height * width / frame.width / 2) * 2)
                gray = frame.reformat(width=width, height=height, format="gray").to_ndarray()
                colour = _colour(frame, self.job.picture_width)
                for msg in self._analyser.feed(gray, now, colour):
                    self._send(self._with_snapshot(msg, colour))

    def _with_snapshot(self, item: Message | Pictured, colour: Callable[[], Any]) -> Message:
        """An event that begins gets a JPEG (of its own picture if it has one, else of this frame: ``colour``)
        with its regions, boxes and zone drawn, and the JPEG's SHA-256."""
        msg = item.message if isinstance(item, Pictured) else item
        if not isinstance(msg, AnalysisEvent) or not self.job.snapshot_dir:
            return msg
        try:
            bgr = item.picture if isinstance(item, Pictured) else colour()
            relpath, digest = write_snapshot(Path(self.job.snapshot_dir), msg, bgr)
        except Exception:
            log.warning("camera=%s: could not write the snapshot of %s", self.job.camera_id, msg.key, exc_info=True)
            return msg
        data = {**msg.data, "snapshot": relpath, "snapshot_sha256": digest}
        return dataclasses.replace(msg, data=data)


def _colour(frame: Any, width: int) -> Callable[[], Any]:
    """The frame in BGR at ``width`` (height keeping the aspect, even), made when first called, then the same
    array (the detector link copies it and snapshots draw on a copy)."""
    made: list[Any] = []

    def make() -> Any:
        if not made:
            height = max(2, round(frame.height * width / frame.width / 2) * 2)
            made.append(frame.reformat(width=width, height=height, format="bgr24").to_ndarray())
        return made[0]

    return make


class _Pace:
    """Real-time pace for a looping file: its frame times start again at every loop, the pace does not."""

    def __init__(self) -> None:
        self._started = time.monotonic()
        self._first: float | None = None
        self._offset = 0.0  # the length of the loops already played
        self._last = 0.0
        self._step = 0.04  # a frame's duration, learnt from consecutive times

    def ahead_s(self, frame_time: float) -> float:
        """How far this frame is ahead of the wall clock (positive: wait that long)."""
        if self._first is None:
            self._first = self._last = frame_time
        elif frame_time < self._last:  # rewound to the start: continue the timeline after the last frame
            self._offset += self._last - self._first + self._step
            self._first = frame_time
        elif frame_time > self._last:
            self._step = min(frame_time - self._last, 1.0)
        self._last = frame_time
        return self._offset + (frame_time - self._first) - (time.monotonic() - self._started)


def write_snapshot(root: Path, msg: AnalysisEvent, bgr: Any) -> tuple[str, str]:
    """Draw the event's motion regions (normalised x, y, w, h in ``data["regions"]``, red), its zone or line
    (``data["outline"]``, normalised points, yellow) and its objects (``data["boxes"]``: label, score, x, y, w, h,
    green, labelled); write the JPEG durably under ``root``; return its path relative to ``root`` and its
    SHA-256. ``bgr`` itself is left as it is (several events of one frame share it)."""
    bgr = bgr.copy()
    height, width = bgr.shape[:2]

    def px(x: float, y: float) -> tuple[int, int]:
        return round(x * width), round(y * height)

    for x, y, w, h in msg.data.get("regions", []):
        cv2.rectangle(bgr, px(x, y), px(x + w, y + h), (0, 0, 255), 2)
    outline = msg.data.get("outline", [])
    if len(outline) >= 2:
        points = np.array([px(x, y) for x, y in outline], np.int32)
        cv2.polylines(bgr, [points], len(outline) > 2, (0, 215, 255), 2)
    for label, score, x, y, w, h in msg.data.get("boxes", []):
        cv2.rectangle(bgr, px(x, y), px(x + w, y + h), (0, 200, 0), 2)
        cv2.putText(
            bgr,
            f"{label} {score:.2f}",
            (px(x, y)[0], max(12, px(x, y)[1] - 4)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 200, 0),
            1,
            cv2.LINE_AA,
        )
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("JPEG encoding failed")
    day = datetime.fromtimestamp(msg.start_us / 1e6, tz=UTC).strftime("%Y-%m-%d")
    key = msg.key.replace(":", "-")
    relpath = f"{msg.camera_id}/{day}/{msg.start_us}-{key}.jpg"
    final = root / relpath
    final.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(final)
    part.write_bytes(jpeg.tobytes())
    _, digest = publish_part(part, final)
    return relpath, digest


def analysis_worker_main(
    jobs: list[AnalysisJob], conn: Any, log_level: int, factory: AnalyserFactory, control: Any = None
) -> None:
    """Analyse until SIGTERM, an ``exit`` command, or until the parent is gone; cameras are started and stopped
    one by one as the main process asks (:class:`vigil.media.worker.StreamThreads`)."""
    send, clock = PipeSender(conn), SystemClock()

    def make(job: AnalysisJob) -> Loop:
        link = DetectorClient(job.detector_address, job.detector_key, job.camera_id) if job.detector_address else None
        return StreamAnalyser(job, factory(job, link), send, clock).run

    streams = StreamThreads(make, send, join_s=10)
    streams.set(jobs, report=False)
    run_until_stopped([], log_level, join_s=10, streams=streams, control=control)
