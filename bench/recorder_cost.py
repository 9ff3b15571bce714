"""Where the recorder's CPU goes: every variant runs at the same time, on its own RTSP streams, in one window.

``recording.py`` runs Vigil and the FFmpeg CLI one after the other, so machine noise between the sides is
part of its ratio. This script instead starts several groups of recorders together, each group on its own
N mounts of one RTSP simulator, and reads each group's CPU (``/proc/<pid>/task/*/schedstat``, the
scheduler's own nanosecond count) over the same windows. A group's position among the mounts biases it by a
few percent, so every variant runs twice, in mirrored positions (A B C D D C B A), and the two are averaged.

Groups (``--variants``, default all):

- ``ffmpeg``: the FFmpeg CLI doing the issue's job (``-c copy -f segment -segment_format mp4``), one process
  per stream: the baseline, 1.0.
- ``demux``: PyAV reading the RTSP stream and dropping the packets (threads in one process).
- ``mux``: PyAV reading and muxing into one fragmented MP4 file with Vigil's options, no segments, no hashes.
- ``reader``: Vigil's own RTSP reader (``vigil.media.rtsp``) handing over access units, which are dropped.
- ``vigil-ffmpeg``: Vigil's ``StreamRecorder`` on FFmpeg's reader and muxer (``recording.rtsp_reader: ffmpeg``).
- ``vigil``: Vigil's ``StreamRecorder`` as shipped: its own reader and fMP4 writer (segments, fsync, SHA-256,
  timestamps, statistics), threads in one process as in a worker; the reports are dropped.

Prints each window, then one JSON object on the last line: every variant's CPU per stream (percent of one
core) and its ratio to ``ffmpeg``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from recording import prepare_clip  # noqa: E402
from schedstat import cpu_seconds  # noqa: E402

from vigil.media.simulator import RtspSimulator  # noqa: E402

VARIANTS = ("ffmpeg", "demux", "mux", "reader", "vigil-ffmpeg", "vigil")
FFMPEG_INPUT = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i"]
FFMPEG_SEGMENTS = ["-c", "copy", "-map", "0:v", "-f", "segment", "-segment_time", "10", "-segment_format", "mp4"]
FFMPEG_SEGMENTS += ["-reset_timestamps", "1"]


def child_main(variant: str, out: Path, urls: Sequence[str]) -> None:
    """Run one group's recorders in this process until killed."""
    for url in urls:
        threading.Thread(target=_child_stream, args=(variant, out, url), daemon=True).start()
    threading.Event().wait()


def _child_stream(variant: str, out: Path, url: str) -> None:
    import av

    from vigil.media.recorder import StreamRecorder, StreamSpec
    from vigil.media.recording_sources import FRAG_OPTIONS
    from vigil.ports import SystemClock

    name = url.rsplit("/", 1)[-1]
    if variant in ("vigil", "vigil-ffmpeg"):
        reader = "ffmpeg" if variant == "vigil-ffmpeg" else "vigil"
        spec = StreamSpec(name, "main", url, url, out, segment_duration_s=10.0, rtsp_reader=reader)
        StreamRecorder(spec, lambda _message: None, SystemClock()).run(threading.Event())
        return
    if variant == "reader":
        from vigil.media.rtsp.source import open_rtsp

        for _unit in open_rtsp(url, display_url=url, timeout_s=10.0, stop=threading.Event()).packets():
            pass
        return
    source = av.open(url, options={"rtsp_transport": "tcp", "timeout": "10000000"}, timeout=(10.0, None))
    stream = source.streams.video[0]
    sink = None
    if variant == "mux":
        sink = av.open(str(out / f"{name}.mp4"), "w", format="mp4", options=FRAG_OPTIONS)
        target = sink.add_stream_from_template(stream)
    for packet in source.demux(stream):
        if sink is None or packet.size == 0 or packet.dts is None:
            continue
        packet.stream = target
        sink.mux(packet)


def _launch(variant: str, urls: Sequence[str], out: Path) -> list[subprocess.Popen[bytes]]:
    out.mkdir(parents=True, exist_ok=True)
    if variant == "ffmpeg":
        return [
            subprocess.Popen(
                [*FFMPEG_INPUT, url, *FFMPEG_SEGMENTS, str(out / f"{k:02d}-%05d.mp4")],
                stdin=subprocess.DEVNULL,
            )
            for k, url in enumerate(urls)
        ]
    command = [sys.executable, str(Path(__file__).resolve()), "--child", variant, "--out", str(out), *urls]
    return [subprocess.Popen(command, stdin=subprocess.DEVNULL)]


def _sweep(out: Path) -> None:
    """Keep the disk use flat: delete finished files (the recorders keep writing the open ones)."""
    cutoff = time.time() - 15
    for path in out.rglob("*.mp4"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="4 streams per group, 2 windows of 10 s")
    parser.add_argument("--streams", type=int, help="streams per group (default 6; 4 with --quick)")
    parser.add_argument("--seconds", type=float, help="length of one window (default 20; 10 with --quick)")
    parser.add_argument("--windows", type=int, help="windows to average (default 3; 2 with --quick)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="from " + ",".join(VARIANTS))
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".vigil-cache" / "bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.streams = args.streams or (4 if args.quick else 6)
    args.seconds = args.seconds or (10.0 if args.quick else 20.0)
    args.windows = args.windows or (2 if args.quick else 3)
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not args.child and (not set(args.variants) <= set(VARIANTS) or "ffmpeg" not in args.variants):
        parser.error(f"--variants from {','.join(VARIANTS)}, including ffmpeg (the baseline)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child_main(args.child, args.out, args.urls)
        return 0
    began = time.monotonic()
    clip = prepare_clip(args.cache_dir)
    order = [*args.variants, *reversed(args.variants)]  # mirrored: each variant once early, once late
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-cost-"))
    names = [f"cam{i:03d}" for i in range(1, len(order) * args.streams + 1)]
    sim = RtspSimulator({name: clip for name in names}, log_path=work / "simulator.log")
    groups: list[tuple[str, list[subprocess.Popen[bytes]]]] = []
    sums: dict[str, float] = dict.fromkeys(args.variants, 0.0)
    try:
        sim.start()
        for k, variant in enumerate(order):
            urls = [sim.url(n) for n in names[k * args.streams : (k + 1) * args.streams]]
            groups.append((variant, _launch(variant, urls, work / f"group{k}")))
        time.sleep(max(8.0, 2.0 * len(order)))  # connect and settle (Python children import PyAV first)
        for window in range(args.windows):
            pids = [[p.pid for p in procs] for _, procs in groups]
            before, t0 = [cpu_seconds(p) for p in pids], time.monotonic()
            time.sleep(args.seconds)
            after, t1 = [cpu_seconds(p) for p in pids], time.monotonic()
            per: dict[str, list[float]] = {v: [] for v in args.variants}
            for (variant, _), b, a in zip(groups, before, after, strict=True):
                per[variant].append(100.0 * (a - b) / (t1 - t0) / args.streams)
            line = {v: round(sum(x) / len(x), 4) for v, x in per.items()}
            print(f"window {window + 1}: % of a core per stream {line}", flush=True)
            for v, x in line.items():
                sums[v] += x
            for k in range(len(order)):
                _sweep(work / f"group{k}")
            dead = [v for v, procs in groups for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"recorders exited: {dead}")
    finally:
        for _, procs in groups:
            for proc in procs:
                proc.kill()
                proc.wait()
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    cpu = {v: s / args.windows for v, s in sums.items()}
    result: dict[str, Any] = {
        "streams_per_group": args.streams,
        "groups": len(order),
        "windows": args.windows,
        "seconds": args.seconds,
        "cpu_pct_per_stream": {v: round(x, 4) for v, x in cpu.items()},
        "ratio_to_ffmpeg": {v: round(x / cpu["ffmpeg"], 3) for v, x in cpu.items()},
        "wall_s": round(time.monotonic() - began, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
