"""Recording benchmark: N simulated 1080p H.264 RTSP cameras recorded by Vigil and by the FFmpeg CLI.

Both sides record the same N mounts of one GStreamer RTSP server (``vigil.media.simulator``), one after the
other, for the same time, with 10 s segments:

- **Vigil**: the real recorder worker processes started by ``RecorderSupervisor`` (``streams_per_worker``
  and ``rtsp_reader`` as shipped: Vigil's own RTSP reader and segment writer; ``--reader ffmpeg`` measures the
  recorder on FFmpeg's reader and muxer instead), reports collected in this process.
- **FFmpeg**: one ``ffmpeg -rtsp_transport tcp -i URL -c copy -map 0:v -f segment ...`` process per stream
  (plus a ``-segment_list`` CSV so that its segment times can be checked).

CPU is the user+system time of the recording processes (psutil) over the measurement window, which starts
once every stream is up and has settled, divided by wall time and by N: percent of one core per stream.
The simulator's CPU is measured over the same windows and reported separately. Figures from several runs of
one side (``--order vigil,ffmpeg,vigil``) are averaged, and each run is shown so the noise can be seen.

Frames: expected = fps x the timestamp span a stream's segments cover, recorded = frames in them (Vigil's
``frame_count``; FFmpeg's files are demuxed, no decoding), and frames missing between timestamps inside the
files. Late: once a second, the bytes queued in the kernel on each RTSP connection, divided by the byte rate,
over 1 s (the same measure for both sides); for Vigil also health samples that stop coming. Segment
boundaries: gaps between consecutive segments and segment durations against the 10 s target (cuts fall on
keyframes, so within one GOP). Every Vigil file is demuxed and compared with its report, and re-hashed (only
the first segment of each stream with ``--quick``).

Human-readable lines go to stdout; the LAST line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import logging
import math
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import FrameType
from typing import Any

import av
import psutil

from vigil.config.models import RecordingConfig
from vigil.domain.reports import HealthSample, Message, SegmentClosed, StreamDown, StreamUp
from vigil.domain.segment import SegmentInfo
from vigil.media.recorder import StreamSpec
from vigil.media.simulator import RtspSimulator
from vigil.media.supervisor import RecorderSupervisor
from vigil.media.synthetic import make_synthetic_clip
from vigil.media.transcode import ensure_h264
from vigil.wiring import groups

REPO = Path(__file__).resolve().parent.parent
SOURCE_CLIP = REPO.parent / "shared" / "data" / "intel-samples" / "car-detection.mp4"
DEFAULT_CACHE = REPO / ".vigil-cache" / "bench"
HEIGHT = 1080
BITRATE_KBPS = 5000
SEGMENT_S = 10.0
TARGET_STREAMS = 64
LATE_S = 1.0  # a stream this far behind (bytes queued in the kernel / bitrate) is late
STALL_US = 1_000_000  # health samples come with packets: one missing for this long past its interval is a stall
STARTUP_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


# --- measuring CPU --------------------------------------------------------------------------------------
class CpuMeter:
    """User+system CPU seconds of a set of processes between ``start()`` and ``stop()``.

    Sampled now and then so that a process that exits inside the window still counts up to its last sample.
    """

    def __init__(self, pids: Iterable[int]) -> None:
        self._procs: dict[int, psutil.Process] = {}
        for pid in pids:
            try:
                self._procs[pid] = psutil.Process(pid)
            except psutil.NoSuchProcess:
                continue
        self._first: dict[int, tuple[float, float]] = {}
        self._last: dict[int, tuple[float, float]] = {}
        self._t0 = self._t1 = 0.0

    @staticmethod
    def _read(proc: psutil.Process) -> tuple[float, float] | None:
        try:
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            return None
        return float(times.user), float(times.system)

    def start(self) -> None:
        self._t0 = time.monotonic()
        for pid, proc in self._procs.items():
            value = self._read(proc)
            if value is not None:
                self._first[pid] = self._last[pid] = value

    def sample(self) -> None:
        for pid in self._first:
            value = self._read(self._procs[pid])
            if value is not None:
                self._last[pid] = value

    def stop(self) -> tuple[float, float]:
        """(CPU seconds, wall seconds) of the window."""
        self.sample()
        self._t1 = time.monotonic()
        return self.user_s + self.system_s, self._t1 - self._t0

    @property
    def user_s(self) -> float:
        return sum(self._last[pid][0] - self._first[pid][0] for pid in self._first)

    @property
    def system_s(self) -> float:
        return sum(self._last[pid][1] - self._first[pid][1] for pid in self._first)

    @property
    def processes(self) -> int:
        return len(self._first)


class BacklogMeter:
    """How far behind each RTSP client is: the bytes queued in the kernel on its connection to the simulator
    (the client socket's receive queue plus the server socket's send queue, from ``/proc/net/tcp``) divided
    by the stream's byte rate. The same measure for both sides, whatever the recorder reports about itself."""

    def __init__(self, port: int, bytes_per_s: float) -> None:
        self._port = port
        self._rate = bytes_per_s
        self.samples = 0
        self.late = 0
        self.max_lag_s = 0.0

    def sample(self) -> None:
        queued: dict[int, int] = defaultdict(int)  # by the client's port
        try:
            lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
        except OSError:
            return
        for line in lines:
            fields = line.split()
            if len(fields) < 5 or fields[3] != "01":  # ESTABLISHED only
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            tx_queue, rx_queue = (int(x, 16) for x in fields[4].split(":"))
            if remote_port == self._port:
                queued[local_port] += rx_queue
            elif local_port == self._port:
                queued[remote_port] += tx_queue
        for size in queued.values():
            lag = size / self._rate
            self.samples += 1
            self.late += lag > LATE_S
            self.max_lag_s = max(self.max_lag_s, lag)

    def into(self, result: SideResult) -> None:
        result.backlog_samples, result.late_samples = self.samples, self.late
        result.max_lag_ms = 1000 * self.max_lag_s


# --- results ---------------------------------------------------------------------------------------------
@dataclass
class FrameCheck:
    """Frames a side should have recorded against the frames it did record, summed over the streams.

    A stream's loss is the larger of two counts: its timestamp span times fps minus its frames (clamped at 0),
    and the frames missing inside its files (steps between consecutive timestamps longer than one frame).
    """

    expected: int = 0
    recorded: int = 0
    lost: int = 0
    lost_max_stream: int = 0
    streams_with_loss: int = 0
    extra: int = 0  # frames beyond the timestamp span (a span shorter than its frames)
    in_file_gaps: int = 0  # frames missing inside files, from their timestamps

    def add(self, expected: int, recorded: int, file_gaps: int) -> None:
        self.expected += expected
        self.recorded += recorded
        self.in_file_gaps += file_gaps
        lost = max(0, expected - recorded, file_gaps)
        self.lost += lost
        self.lost_max_stream = max(self.lost_max_stream, lost)
        self.streams_with_loss += lost > 0
        self.extra += max(0, recorded - expected)


@dataclass(frozen=True)
class FileFacts:
    packets: int
    first_keyframe: bool
    missing_frames: int  # frames missing between consecutive packets, from their DTS steps


@dataclass
class SideResult:
    side: str  # "vigil" or "ffmpeg"
    run: int
    streams: int
    startup_s: float = 0.0
    window_s: float = 0.0
    cpu_s: float = 0.0
    system_cpu_s: float = 0.0  # the kernel's share of cpu_s
    processes: int = 0
    sim_cpu_s: float = 0.0
    main_cpu_s: float = 0.0  # the bench process itself (it drains Vigil's reports)
    stop_s: float = 0.0
    frames: FrameCheck = field(default_factory=FrameCheck)
    segments: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    duration_devs_s: list[float] = field(default_factory=list)  # every segment but each stream's last
    later_devs_s: list[float] = field(default_factory=list)  # the same without each stream's first segment
    close_latency_ms: list[float] = field(default_factory=list)
    bitrate_kbps: float = 0.0
    backlog_samples: int = 0  # (stream, second) samples of the bytes queued on its RTSP connection
    late_samples: int = 0  # samples more than LATE_S behind
    max_lag_ms: float = 0.0
    health_samples: int = 0
    health_stalls: int = 0  # health samples later than the interval + STALL_US after the previous one
    stream_downs: int = 0
    worker_deaths: int = 0
    missing_sha256: int = 0
    sha256_mismatches: int = 0
    files_checked: int = 0
    frame_count_mismatches: int = 0
    not_starting_on_keyframe: int = 0
    rtp_warnings: int = 0
    lost_packets: int = 0  # RTP packets missing, as Vigil's reader counted them (last health sample per stream)
    dropped_frames: int = 0  # pictures Vigil's reader did not write because of those losses
    problems: list[str] = field(default_factory=list)

    @property
    def cpu_pct_per_stream(self) -> float:
        return 100.0 * self.cpu_s / self.window_s / self.streams if self.window_s > 0 else math.nan

    @property
    def system_share(self) -> float:
        """The kernel's share of the recording processes' CPU."""
        return self.system_cpu_s / self.cpu_s if self.cpu_s > 0 else math.nan

    @property
    def sim_cpu_pct(self) -> float:
        return 100.0 * self.sim_cpu_s / self.window_s if self.window_s > 0 else math.nan

    def summary(self) -> str:
        gaps = f"gap max {_max(self.gaps_ms):.1f} ms p95 {_p95(self.gaps_ms):.1f} ms" if self.gaps_ms else "no gaps"
        devs = [abs(d) for d in self.duration_devs_s]
        lines = [
            f"[{self.side} #{self.run}] {self.streams} streams, up after {self.startup_s:.1f} s, window "
            f"{self.window_s:.1f} s, {self.processes} processes, stop {self.stop_s:.1f} s",
            f"  CPU {self.cpu_pct_per_stream:.3f}% of a core per stream ({100 * self.cpu_s / self.window_s:.1f}% "
            f"total, {100 * self.system_share:.0f}% of it in the kernel); simulator {self.sim_cpu_pct:.1f}% total",
            f"  frames expected {self.frames.expected}, recorded {self.frames.recorded}, lost {self.frames.lost} "
            f"(max {self.frames.lost_max_stream} in one stream, {self.frames.streams_with_loss} streams), "
            f"{self.frames.in_file_gaps} missing inside files; {self.frames.extra} beyond the timestamp span",
            f"  {self.segments} segments, {gaps}, duration deviation from {SEGMENT_S:.0f} s: "
            f"mean {_mean(devs):.3f} s max {_max(devs):.3f} s (max {_max([abs(d) for d in self.later_devs_s]):.3f} s "
            f"after each stream's first); bitrate {self.bitrate_kbps:.0f} kb/s per stream",
        ]
        lines.append(
            f"  late (queued on the connection > {LATE_S:g} s) {self.late_samples} of {self.backlog_samples} "
            f"samples, max lag {self.max_lag_ms:.0f} ms"
        )
        if self.side == "vigil":
            lines.append(
                f"  health samples {self.health_samples}, stalls {self.health_stalls}, stream downs "
                f"{self.stream_downs}, worker deaths {self.worker_deaths}; close latency min "
                f"{min(self.close_latency_ms, default=0):.0f} ms p95 {_p95(self.close_latency_ms):.0f} ms max "
                f"{_max(self.close_latency_ms):.0f} ms; bench process {100 * self.main_cpu_s / self.window_s:.1f}%"
            )
            lines.append(
                f"  files checked {self.files_checked}: sha256 missing {self.missing_sha256}, mismatched "
                f"{self.sha256_mismatches}; frame count mismatches {self.frame_count_mismatches}; not starting "
                f"on a keyframe {self.not_starting_on_keyframe}; RTP packets lost {self.lost_packets}, frames "
                f"dropped for it {self.dropped_frames}"
            )
        else:
            lines.append(f"  RTP/stream warnings in ffmpeg logs: {self.rtp_warnings}")
        lines += [f"  PROBLEM: {p}" for p in self.problems[:10]]
        return "\n".join(lines)


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _max(values: Sequence[float]) -> float:
    return max(values) if values else 0.0


def _p95(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


# --- the Vigil side --------------------------------------------------------------------------------------
@dataclass
class VigilReports:
    segments: dict[str, list[tuple[int, SegmentInfo]]] = field(default_factory=lambda: defaultdict(list))
    up: dict[str, int] = field(default_factory=dict)
    downs: list[StreamDown] = field(default_factory=list)
    health: list[HealthSample] = field(default_factory=list)

    def take(self, messages: Iterable[Message]) -> None:
        now_us = time.time_ns() // 1000
        for message in messages:
            if isinstance(message, SegmentClosed):
                self.segments[message.info.camera_id].append((now_us, message.info))
            elif isinstance(message, StreamUp):
                self.up.setdefault(message.camera_id, message.at_us)
            elif isinstance(message, StreamDown):
                self.downs.append(message)
            elif isinstance(message, HealthSample):
                self.health.append(message)


def run_vigil(
    sim: RtspSimulator,
    names: Sequence[str],
    work: Path,
    *,
    run: int,
    seconds: float,
    settle_s: float,
    per_worker: int,
    reader: str,
    fps: Fraction,
    bytes_per_s: float,
    verify_all: bool,
) -> SideResult:
    root = work / f"vigil-{run}"
    rec = RecordingConfig()  # the shipped defaults, as runtime.stream_specs passes them
    specs = [
        StreamSpec(
            camera_id=name,
            stream="main",
            url=sim.url(name),
            display_url=sim.url(name),
            root=root,
            segment_duration_s=SEGMENT_S,
            rtsp_transport="tcp",
            rtsp_reader=reader,
            timeout_s=rec.socket_timeout_s,
            reconnect_initial_s=rec.reconnect_initial_s,
            reconnect_max_s=rec.reconnect_max_s,
            health_interval_s=rec.health_interval_s,
        )
        for name in names
    ]
    result = SideResult("vigil", run, len(names))
    reports = VigilReports()
    deaths: list[int | None] = []
    stopping = threading.Event()

    def died(_specs: Sequence[StreamSpec], code: int | None) -> None:
        if not stopping.is_set():
            deaths.append(code)

    supervisor = RecorderSupervisor(groups(specs, per_worker), died, log_level=logging.WARNING)
    started = time.monotonic()
    supervisor.start()
    try:
        deadline = started + STARTUP_TIMEOUT_S
        while len(reports.up) < len(names) and time.monotonic() < deadline:
            reports.take(supervisor.receive(0.2))
        result.startup_s = time.monotonic() - started
        if len(reports.up) < len(names):
            result.problems.append(f"only {len(reports.up)} of {len(names)} streams up after {STARTUP_TIMEOUT_S} s")
        settle_end = time.monotonic() + settle_s
        while time.monotonic() < settle_end:
            reports.take(supervisor.receive(max(0.0, settle_end - time.monotonic())))
        meter, sim_meter = CpuMeter(supervisor.pids), CpuMeter([sim.pid or 0])
        backlog = BacklogMeter(sim.port, bytes_per_s)
        me = psutil.Process()
        main0 = sum(me.cpu_times()[:2])
        window_start_us = time.time_ns() // 1000
        meter.start()
        sim_meter.start()
        window_end = time.monotonic() + seconds
        next_sample = time.monotonic() + 1.0
        while (now := time.monotonic()) < window_end:
            reports.take(supervisor.receive(max(0.0, min(window_end, next_sample) - now)))
            if time.monotonic() >= next_sample:
                meter.sample()
                backlog.sample()
                next_sample += 1.0
        result.cpu_s, result.window_s = meter.stop()
        result.system_cpu_s = meter.system_s
        result.sim_cpu_s, _ = sim_meter.stop()
        result.main_cpu_s = sum(me.cpu_times()[:2]) - main0
        window_end_us = time.time_ns() // 1000
        result.processes = meter.processes
        backlog.into(result)
    finally:
        stopping.set()
        stop_started = time.monotonic()
        stopper = threading.Thread(target=supervisor.stop, name="bench-stop", daemon=True)
        stopper.start()
        while stopper.is_alive():  # keep draining: a worker blocked on a full pipe could not exit
            reports.take(supervisor.receive(0.2))
        while batch := supervisor.receive(0.2):
            reports.take(batch)
        result.stop_s = time.monotonic() - stop_started
    result.worker_deaths = len(deaths)
    result.stream_downs = len(reports.downs)
    for down in reports.downs[:5]:
        result.problems.append(f"{down.camera_id} down: {down.cause} {down.detail}")
    _check_vigil(result, reports, names, root, fps, window_start_us, window_end_us, verify_all)
    shutil.rmtree(root, ignore_errors=True)
    return result


def _check_vigil(
    result: SideResult,
    reports: VigilReports,
    names: Sequence[str],
    root: Path,
    fps: Fraction,
    window_start_us: int,
    window_end_us: int,
    verify_all: bool,
) -> None:
    total_bytes = 0
    total_us = 0
    for name in names:
        segs = sorted(reports.segments.get(name, []), key=lambda item: item[1].start_us)
        if not segs:
            result.problems.append(f"{name}: no segments")
            continue
        infos = [info for _, info in segs]
        result.segments += len(infos)
        span_us = infos[-1].end_us - infos[0].start_us
        total_bytes += sum(i.size_bytes for i in infos)
        total_us += span_us
        for prev, nxt in itertools.pairwise(infos):
            result.gaps_ms.append(abs(nxt.start_us - prev.end_us) / 1000)
        result.duration_devs_s += [i.duration_us / 1e6 - SEGMENT_S for i in infos[:-1]]
        result.later_devs_s += [i.duration_us / 1e6 - SEGMENT_S for i in infos[1:-1]]
        # From the boundary (the wall time of the keyframe that ended the segment) to its report arriving here;
        # negative when the segment times run ahead of real time.
        result.close_latency_ms += [(received - info.end_us) / 1000 for received, info in segs[:-1]]
        missing = 0
        for index, info in enumerate(infos):
            if len(info.sha256) != 64:
                result.missing_sha256 += 1
            missing += _verify_file(result, root / info.path, info, fps, hash_it=verify_all or index == 0)
        result.frames.add(round(span_us * fps / 1_000_000), sum(i.frame_count for i in infos), missing)
    result.bitrate_kbps = total_bytes * 8 / 1000 / (total_us / 1e6) if total_us else 0.0
    # A stream's health samples are sent from its packet loop, so a stalled stream sends none: count the
    # samples that came too long after the previous one, or whose last packet was too old.
    interval_us = int(RecordingConfig().health_interval_s * 1e6)
    previous: dict[str, int] = {}
    losses: dict[str, tuple[int, int]] = {}
    for sample in sorted(reports.health, key=lambda h: h.at_us):
        losses[sample.camera_id] = (sample.lost_packets, sample.dropped_frames)
        if not window_start_us <= sample.at_us <= window_end_us:
            continue
        result.health_samples += 1
        before = previous.get(sample.camera_id)
        previous[sample.camera_id] = sample.at_us
        stale = sample.last_packet_us is not None and sample.at_us - sample.last_packet_us > STALL_US
        late = before is not None and sample.at_us - before > interval_us + STALL_US
        result.health_stalls += (not sample.connected) or stale or late
    result.lost_packets = sum(lost for lost, _ in losses.values())
    result.dropped_frames = sum(dropped for _, dropped in losses.values())


def _verify_file(result: SideResult, path: Path, info: SegmentInfo, fps: Fraction, *, hash_it: bool) -> int:
    """Check one Vigil file against its report; return the frames missing inside it."""
    try:
        if hash_it:
            result.files_checked += 1
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
            if digest.hexdigest() != info.sha256:
                result.sha256_mismatches += 1
        facts = file_facts(path, fps)
    except (OSError, av.FFmpegError) as exc:
        result.problems.append(f"{path.name}: unreadable: {exc}")
        return 0
    if facts.packets != info.frame_count:
        result.frame_count_mismatches += 1
    if not facts.first_keyframe:
        result.not_starting_on_keyframe += 1
    return facts.missing_frames


def file_facts(path: Path, fps: Fraction) -> FileFacts:
    """Packets of a file's video stream, demuxed only (no decoding)."""
    count, first_key, missing = 0, False, 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frame_ticks = 1 / (fps * Fraction(stream.time_base or Fraction(1, 90_000)))
        previous: int | None = None
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if count == 0:
                first_key = bool(packet.is_keyframe)
            count += 1
            if packet.dts is not None:
                if previous is not None:
                    missing += max(0, round((packet.dts - previous) / frame_ticks) - 1)
                previous = packet.dts
    return FileFacts(count, first_key, missing)


# --- the FFmpeg side -------------------------------------------------------------------------------------
def ffmpeg_command(url: str, out: Path) -> list[str]:
    # -loglevel warning (instead of error) only so that "RTP: missed N packets" lines are seen and counted.
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "warning",
        "-rtsp_transport",
        "tcp",
        "-i",
        url,
        "-c",
        "copy",
        "-map",
        "0:v",
        "-f",
        "segment",
        "-segment_time",
        str(int(SEGMENT_S)),
        "-segment_format",
        "mp4",
        "-reset_timestamps",
        "1",
        "-segment_list",
        str(out / "list.csv"),
        "-segment_list_type",
        "csv",
        str(out / "%05d.mp4"),
    ]


def run_ffmpeg(
    sim: RtspSimulator,
    names: Sequence[str],
    work: Path,
    *,
    run: int,
    seconds: float,
    settle_s: float,
    fps: Fraction,
    bytes_per_s: float,
) -> SideResult:
    root = work / f"ffmpeg-{run}"
    result = SideResult("ffmpeg", run, len(names))
    procs: dict[str, subprocess.Popen[bytes]] = {}
    started = time.monotonic()
    try:
        for name in names:
            out = root / name
            out.mkdir(parents=True)
            with (out / "ffmpeg.log").open("wb") as log_file:
                procs[name] = subprocess.Popen(
                    ffmpeg_command(sim.url(name), out),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                    start_new_session=True,  # Ctrl-C reaches the bench only; it stops these itself
                )
        deadline = started + STARTUP_TIMEOUT_S
        waiting = set(names)
        while waiting and time.monotonic() < deadline:
            # the segment muxer creates its first file once the input is open and probed
            waiting = {n for n in waiting if not (root / n / "00000.mp4").exists() and procs[n].poll() is None}
            time.sleep(0.05)
        result.startup_s = time.monotonic() - started
        dead = [n for n, p in procs.items() if p.poll() is not None]
        if waiting or dead:
            result.problems.append(f"not started: {sorted(waiting)[:5]}, exited early: {sorted(dead)[:5]}")
        time.sleep(settle_s)
        meter = CpuMeter(p.pid for p in procs.values())
        sim_meter = CpuMeter([sim.pid or 0])
        backlog = BacklogMeter(sim.port, bytes_per_s)
        meter.start()
        sim_meter.start()
        window_end = time.monotonic() + seconds
        while (now := time.monotonic()) < window_end:
            time.sleep(min(1.0, window_end - now))
            meter.sample()
            backlog.sample()
        result.cpu_s, result.window_s = meter.stop()
        result.system_cpu_s = meter.system_s
        result.sim_cpu_s, _ = sim_meter.stop()
        result.processes = meter.processes
        backlog.into(result)
    finally:
        stop_started = time.monotonic()
        _stop_processes(list(procs.values()))
        result.stop_s = time.monotonic() - stop_started
    for name, proc in procs.items():
        if proc.returncode not in (0, 255, -signal.SIGINT):
            result.problems.append(f"{name}: ffmpeg exit code {proc.returncode}")
    _check_ffmpeg(result, names, root, fps)
    shutil.rmtree(root, ignore_errors=True)
    return result


def _stop_processes(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGINT (ffmpeg then writes its trailers), then SIGKILL whatever is left after the timeout."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check_ffmpeg(result: SideResult, names: Sequence[str], root: Path, fps: Fraction) -> None:
    total_bytes = 0
    total_s = 0.0
    for name in names:
        out = root / name
        log_text = (out / "ffmpeg.log").read_text(errors="replace") if (out / "ffmpeg.log").exists() else ""
        result.rtp_warnings += sum("missed" in line or "max delay" in line for line in log_text.splitlines())
        listed: list[tuple[str, float, float]] = []
        if (out / "list.csv").exists():
            with (out / "list.csv").open(newline="") as fh:
                listed = [(row[0], float(row[1]), float(row[2])) for row in csv.reader(fh) if len(row) >= 3]
        if not listed:
            result.problems.append(f"{name}: no segments listed")
            continue
        result.segments += len(listed)
        recorded = missing = 0
        for file_name, _start, _end in listed:
            try:
                facts = file_facts(out / file_name, fps)
            except (OSError, av.FFmpegError) as exc:
                result.problems.append(f"{name}/{file_name}: unreadable: {exc}")
                continue
            recorded += facts.packets
            missing += facts.missing_frames
            total_bytes += (out / file_name).stat().st_size
        span_s = listed[-1][2] - listed[0][1]
        total_s += span_s
        result.frames.add(round(Fraction(span_s).limit_denominator(1_000_000) * fps), recorded, missing)
        for prev, nxt in itertools.pairwise(listed):
            result.gaps_ms.append(abs(nxt[1] - prev[2]) * 1000)
        result.duration_devs_s += [end - start - SEGMENT_S for _, start, end in listed[:-1]]
        result.later_devs_s += [end - start - SEGMENT_S for _, start, end in listed[1:-1]]
    result.bitrate_kbps = total_bytes * 8 / 1000 / total_s if total_s else 0.0


# --- the clip and the main programme ---------------------------------------------------------------------
def prepare_clip(cache: Path) -> Path:
    if SOURCE_CLIP.is_file():
        return ensure_h264(SOURCE_CLIP, cache, height=HEIGHT, bitrate_kbps=BITRATE_KBPS, gop_s=2.0)
    path = cache / "synthetic-1080p25-5000k.mp4"
    if not path.is_file():
        make_synthetic_clip(path, 1920, 1080, fps=25, duration_s=20, gop_s=2, bitrate_kbps=BITRATE_KBPS)
    return path


@dataclass(frozen=True)
class ClipFacts:
    fps: Fraction
    width: int
    height: int
    gop_max_s: float  # the longest keyframe interval: segments cut on keyframes can overshoot by this much
    bytes_per_s: float  # the video's mean byte rate


def clip_facts(path: Path) -> ClipFacts:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        keyframes: list[int] = []
        size = frames = 0
        for packet in container.demux(stream):
            if packet.size:
                size += packet.size
                frames += 1
                if packet.is_keyframe and packet.pts is not None:
                    keyframes.append(packet.pts)
        tb = Fraction(stream.time_base or Fraction(1, 90_000))
        gaps = [float((b - a) * tb) for a, b in itertools.pairwise(keyframes)]
        width, height = int(stream.codec_context.width), int(stream.codec_context.height)
        return ClipFacts(rate, width, height, max(gaps, default=0), size / max(1, frames) * float(rate))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="8 streams, 20 s per side, fewer file checks")
    parser.add_argument("--streams", type=int, help="simulated cameras (default 64; 8 with --quick)")
    parser.add_argument("--seconds", type=float, help="measured seconds per side (default 60; 20 with --quick)")
    parser.add_argument(
        "--order",
        help="sides to run, in order (default vigil,ffmpeg,vigil; vigil,ffmpeg with --quick)",
    )
    parser.add_argument(
        "--streams-per-worker",
        type=int,
        default=RecordingConfig().streams_per_worker,
        help="Vigil streams per recorder process (default: the shipped default)",
    )
    parser.add_argument(
        "--reader",
        choices=("vigil", "ffmpeg"),
        default=RecordingConfig().rtsp_reader,
        help="Vigil's RTSP reader and writer, or FFmpeg's through PyAV (default: the shipped default)",
    )
    parser.add_argument("--settle", type=float, help="seconds between 'all streams up' and the window")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="where the 1080p clip is cached")
    parser.add_argument("--workdir", type=Path, help="where the temporary recordings go (default: system temp)")
    args = parser.parse_args(argv)
    args.streams = args.streams or (8 if args.quick else TARGET_STREAMS)
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    args.order = [
        s.strip() for s in (args.order or ("vigil,ffmpeg" if args.quick else "vigil,ffmpeg,vigil")).split(",")
    ]
    args.settle = args.settle if args.settle is not None else (1.0 if args.quick else 3.0)
    if args.streams < 1 or args.seconds <= 0 or not set(args.order) <= {"vigil", "ffmpeg"}:
        parser.error("--streams >= 1, --seconds > 0, --order from vigil,ffmpeg")
    if "vigil" not in args.order or "ffmpeg" not in args.order:
        parser.error("--order must run both sides")
    return args


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (&, nohup)
    began = time.monotonic()
    clip = prepare_clip(args.cache_dir)
    facts = clip_facts(clip)
    fps = facts.fps
    print(
        f"clip {clip.name}: {facts.width}x{facts.height} at {float(fps):g} fps, keyframes at most "
        f"{facts.gop_max_s:g} s apart; prepared in {time.monotonic() - began:.1f} s"
    )
    names = [f"cam{i:02d}" for i in range(1, args.streams + 1)]
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-recording-", dir=args.workdir))
    sim = RtspSimulator({name: clip for name in names}, log_path=work / "simulator.log")
    results: list[SideResult] = []
    try:
        sim.start()
        for run, side in enumerate(args.order, start=1):
            if side == "vigil":
                result = run_vigil(
                    sim,
                    names,
                    work,
                    run=run,
                    seconds=args.seconds,
                    settle_s=args.settle,
                    per_worker=args.streams_per_worker,
                    reader=args.reader,
                    fps=fps,
                    bytes_per_s=facts.bytes_per_s,
                    verify_all=not args.quick,
                )
            else:
                result = run_ffmpeg(
                    sim,
                    names,
                    work,
                    run=run,
                    seconds=args.seconds,
                    settle_s=args.settle,
                    fps=fps,
                    bytes_per_s=facts.bytes_per_s,
                )
            print(result.summary(), flush=True)
            results.append(result)
            if not sim.running:
                raise RuntimeError(f"the RTSP simulator died; see {sim.log_path}")
            time.sleep(1.0)  # let the simulator drop the previous side's sessions
    finally:
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    figures = summarise(results, args, fps, facts.gop_max_s, time.monotonic() - began)
    print(json.dumps(figures))
    return 0


def summarise(
    results: Sequence[SideResult], args: argparse.Namespace, fps: Fraction, gop_max_s: float, wall_s: float
) -> dict[str, Any]:
    vigil = [r for r in results if r.side == "vigil"]
    ffmpeg = [r for r in results if r.side == "ffmpeg"]
    vigil_cpu = _mean([r.cpu_pct_per_stream for r in vigil])
    ffmpeg_cpu = _mean([r.cpu_pct_per_stream for r in ffmpeg])
    ratio = vigil_cpu / ffmpeg_cpu if ffmpeg_cpu > 0 else math.inf
    gaps = [g for r in vigil for g in r.gaps_ms]
    devs = [abs(d) for r in vigil for d in r.duration_devs_s]
    ff_devs = [abs(d) for r in ffmpeg for d in r.duration_devs_s]
    later = [abs(d) for r in vigil for d in r.later_devs_s]
    lost = sum(r.frames.lost for r in vigil)
    rtp_lost = sum(r.lost_packets + r.dropped_frames for r in vigil)
    late = sum(r.late_samples for r in vigil)
    stalls = sum(r.health_stalls for r in vigil)
    integrity = sum(
        r.missing_sha256 + r.sha256_mismatches + r.frame_count_mismatches + r.not_starting_on_keyframe for r in vigil
    )
    healthy = sum(r.stream_downs + r.worker_deaths + len(r.problems) for r in vigil) == 0
    criteria_met = (
        lost == 0 and rtp_lost == 0 and late == 0 and stalls == 0 and ratio <= 1.0 and integrity == 0 and healthy
    )
    return {
        "streams": args.streams,
        "seconds": args.seconds,
        "quick": bool(args.quick),
        "order": ",".join(args.order),
        "streams_per_worker": args.streams_per_worker,
        "reader": args.reader,
        "fps": float(fps),
        "vigil_cpu_pct_per_stream": round(vigil_cpu, 4),
        "ffmpeg_cpu_pct_per_stream": round(ffmpeg_cpu, 4),
        "cpu_ratio_vigil_over_ffmpeg": round(ratio, 3),
        "vigil_cpu_runs": [round(r.cpu_pct_per_stream, 4) for r in vigil],
        "ffmpeg_cpu_runs": [round(r.cpu_pct_per_stream, 4) for r in ffmpeg],
        "vigil_kernel_share": round(_mean([r.system_share for r in vigil]), 3),
        "ffmpeg_kernel_share": round(_mean([r.system_share for r in ffmpeg]), 3),
        "vigil_expected_frames": sum(r.frames.expected for r in vigil),
        "vigil_lost_frames": lost,
        "vigil_lost_frames_max_stream": max((r.frames.lost_max_stream for r in vigil), default=0),
        "vigil_frames_beyond_span": sum(r.frames.extra for r in vigil),
        "vigil_rtp_lost_packets": sum(r.lost_packets for r in vigil),
        "vigil_dropped_frames": sum(r.dropped_frames for r in vigil),
        "ffmpeg_expected_frames": sum(r.frames.expected for r in ffmpeg),
        "ffmpeg_lost_frames": sum(r.frames.lost for r in ffmpeg),
        "ffmpeg_lost_frames_max_stream": max((r.frames.lost_max_stream for r in ffmpeg), default=0),
        "ffmpeg_rtp_warnings": sum(r.rtp_warnings for r in ffmpeg),
        "vigil_late_samples": late,
        "vigil_max_lag_ms": round(max((r.max_lag_ms for r in vigil), default=0.0), 1),
        "ffmpeg_late_samples": sum(r.late_samples for r in ffmpeg),
        "ffmpeg_max_lag_ms": round(max((r.max_lag_ms for r in ffmpeg), default=0.0), 1),
        "lag_samples_per_side": round(_mean([r.backlog_samples for r in results])),
        "vigil_health_samples": sum(r.health_samples for r in vigil),
        "vigil_health_stalls": sum(r.health_stalls for r in vigil),
        "vigil_stream_downs": sum(r.stream_downs for r in vigil),
        "vigil_worker_deaths": sum(r.worker_deaths for r in vigil),
        "vigil_segments": sum(r.segments for r in vigil),
        "segment_gap_max_ms": round(_max(gaps), 3),
        "segment_gap_p95_ms": round(_p95(gaps), 3),
        "segment_duration_dev_mean_s": round(_mean(devs), 3),
        "segment_duration_dev_max_s": round(_max(devs), 3),
        "segment_duration_dev_max_s_after_first": round(_max(later), 3),
        "clip_gop_max_s": round(gop_max_s, 3),
        "ffmpeg_segment_duration_dev_max_s": round(_max(ff_devs), 3),
        "segment_close_latency_p95_ms": round(_p95([x for r in vigil for x in r.close_latency_ms]), 1),
        "segment_close_latency_min_ms": round(min((x for r in vigil for x in r.close_latency_ms), default=0.0), 1),
        "vigil_files_checked": sum(r.files_checked for r in vigil),
        "segments_without_sha256": sum(r.missing_sha256 for r in vigil),
        "sha256_mismatches": sum(r.sha256_mismatches for r in vigil),
        "frame_count_mismatches": sum(r.frame_count_mismatches for r in vigil),
        "simulator_cpu_pct": round(_mean([r.sim_cpu_pct for r in results]), 2),
        "simulator_cpu_pct_per_stream": round(_mean([r.sim_cpu_pct for r in results]) / args.streams, 3),
        "vigil_bench_process_cpu_pct": round(_mean([100 * r.main_cpu_s / r.window_s for r in vigil]), 2),
        "bitrate_kbps": round(_mean([r.bitrate_kbps for r in results])),
        "problems": sum(len(r.problems) for r in results),
        "wall_s": round(wall_s, 1),
        "criteria_met": criteria_met,
        "target_met": criteria_met and args.streams >= TARGET_STREAMS,
    }


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
