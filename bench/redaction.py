"""Redaction and privacy masks: how much each hides, and what it costs.

1. **Faces remaining detectable** on real footage with people (``../shared/data``): PETS09-S2L1 (768x576, an
   elevated campus camera: small faces) and TUD-Campus (640x480, a low camera: larger faces). Each frame is
   redacted as a redacted evidence package is (``Treatments``: faces = CenterFace boxes and the heads of the people
   NanoDet finds; plates = text in vehicles; blur), then the same detectors look again: CenterFace at the
   picture's size and at twice it (a stronger search: the small PETS faces are only found enlarged), NanoDet for
   persons. ``--people`` also hides whole people. Reported: faces and persons before and after, faces remaining
   (count and share).
2. **Speed** of a redacted clip (decode, detect, blur, encode with libx264 veryfast) against copying the same
   clip (remux), in frames a second, on the same H.264 files.
3. **Masked live transcode cost**: CPU seconds per second of video (100% = one core) for decoding, filling a
   privacy mask and encoding (``LIVE_H264``: veryfast, zerolatency) against remuxing the same packets into
   fragments (what an unmasked viewer costs), at 720p (the tampering footage, 1280x720 30 fps) and 768x432
   (an Intel sample, 10 fps).

``--quick`` (under a minute): 12 PETS frames and 12 TUD frames, 120 frames per transcode, no PETS speed run.
Prints one JSON object on its last line. Needs ``../shared/data`` (exits 2 without it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av
import numpy as np

from vigil.analysis.detector import DetectorSettings, load_detector
from vigil.analysis.faces import FaceFinder
from vigil.domain.privacy import PictureTreatment, as_masks
from vigil.media.clip import ClipPart, write_clip
from vigil.media.encoder import LIVE_H264, Fmp4Encoder
from vigil.media.fmp4 import Fmp4Remuxer
from vigil.media.masking import MaskPainter
from vigil.media.transcode import ensure_h264
from vigil.treatments import Treatments

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PETS = DATA / "pets09-s2l1" / "vtest.avi"
TUD = DATA / "tud-campus" / "TUD-Campus.mp4"
TAMPERING = DATA / "tampering" / "Displacement.mp4"  # H.264 1280x720 30 fps
PEOPLE_432P = DATA / "intel-samples" / "one-by-one-person-detection.mp4"  # H.264 768x432 10 fps
MASK = as_masks([[[0.05, 0.05], [0.45, 0.05], [0.45, 0.3], [0.05, 0.3]]])


def frames(path: Path, count: int, every: int = 1) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k % every == 0:
                out.append(frame.to_ndarray(format="bgr24"))
            if len(out) >= count:
                break
    return out


def detect_all(pictures: list[np.ndarray], finder: FaceFinder, persons: Any) -> dict[str, int]:
    return {
        "faces": sum(len(finder.find(p)) for p in pictures),
        "faces_2x": sum(len(finder.find(p, upscale=2.0)) for p in pictures),
        "persons": sum(sum(1 for d in persons.detect(p) if d.label == "person") for p in pictures),
    }


def hiding(name: str, path: Path, count: int, every: int, kinds: frozenset[str], treatments: Treatments) -> dict:
    pictures = frames(path, count, every)
    finder, persons = FaceFinder(), load_detector(DetectorSettings(labels=("person",)))
    before = detect_all(pictures, finder, persons)
    redactor = treatments.redactor(PictureTreatment(redact=kinds))
    assert redactor is not None
    started = time.perf_counter()
    redacted = [redactor.redact(p.copy()) for p in pictures]
    detect_ms = (time.perf_counter() - started) / len(pictures) * 1000
    after = detect_all(redacted, finder, persons)
    share = {k: round(after[k] / before[k], 3) if before[k] else None for k in ("faces", "faces_2x")}
    result = {
        "frames": len(pictures),
        "size": f"{pictures[0].shape[1]}x{pictures[0].shape[0]}",
        "before": before,
        "after": after,
        "faces_remaining": after["faces"],
        "faces_remaining_share": share["faces"],
        "faces_2x_remaining_share": share["faces_2x"],
        "hidden": redactor.counts.as_dict(),
        "redact_ms_per_frame": round(detect_ms, 1),
    }
    print(f"{name} {sorted(kinds)}: {result}", file=sys.stderr)
    return result


def speed(path: Path, work: Path, treatments: Treatments) -> dict[str, float]:
    """Frames a second: remux vs redacted re-encode of the whole file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        duration_us = int(float(stream.duration * stream.time_base) * 1e6) if stream.duration else 10_000_000
    parts = [ClipPart(path, 0, duration_us)]
    started = time.perf_counter()
    copied = write_clip(parts, 0, duration_us, work / "copy.mp4")
    copy_s = time.perf_counter() - started
    started = time.perf_counter()
    made = treatments.clip(
        [(path, 0, duration_us)],
        0,
        duration_us,
        work / "red.mp4",
        PictureTreatment(redact=frozenset({"faces", "plates"})),
    )
    red_s = time.perf_counter() - started
    started = time.perf_counter()
    treatments.clip([(path, 0, duration_us)], 0, duration_us, work / "mask.mp4", PictureTreatment(masks=MASK))
    mask_s = time.perf_counter() - started
    return {
        "frames": made.frame_count,
        "remux_fps": round(copied.frame_count / copy_s, 1),
        "redacted_fps": round(made.frame_count / red_s, 1),
        "masked_fps": round(made.frame_count / mask_s, 1),
    }


def transcode_cost(path: Path, count: int) -> dict[str, Any]:
    """CPU per second of video: remux into live fragments vs decode + mask + encode (live settings)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        packets = []
        for packet in container.demux(stream):
            if packet.size:
                packets.append(packet)
            if len(packets) >= count:
                break
        width, height = stream.codec_context.width, stream.codec_context.height
    video_s = len(packets) / fps
    started = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        remuxer = None
        for k, packet in enumerate(container.demux(stream)):
            if not packet.size:
                continue
            if k >= count:
                break
            if remuxer is None:
                remuxer = Fmp4Remuxer(stream, packet)
            remuxer.push(packet)
        if remuxer is not None:
            remuxer.close()
    remux_cpu = time.process_time() - started
    painter = MaskPainter(MASK)
    started = time.process_time()
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        encoder = None
        for done, frame in enumerate(container.decode(stream), start=1):
            if encoder is None:
                encoder = Fmp4Encoder(frame.width, frame.height, fps, settings=LIVE_H264)
            encoder.encode(painter.frame(frame), round((done - 1) / fps * 90_000))
            if done >= count:
                break
        if encoder is not None:
            encoder.close()
    masked_cpu = time.process_time() - started
    return {
        "size": f"{width}x{height}",
        "fps": round(fps, 2),
        "frames": count,
        "remux_core_percent": round(remux_cpu / video_s * 100, 2),
        "masked_transcode_core_percent": round(masked_cpu / video_s * 100, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (under a minute)")
    parser.add_argument("--people", action="store_true", help="also hide whole people")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(json.dumps({"error": f"{DATA} is absent"}))
        return 2
    count = 12 if args.quick else 160
    treatments = Treatments()
    kinds = frozenset({"faces", "plates"} | ({"people"} if args.people else set()))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pets_h264 = ensure_h264(PETS, work / "cache")
        results: dict[str, Any] = {
            "date": time.strftime("%Y-%m-%d"),
            "mode": "quick" if args.quick else "full",
            "redact": sorted(kinds),
            "pets09": hiding("pets09", PETS, count, 795 // count, kinds, treatments),
            "tud_campus": hiding("tud", TUD, min(count, 71), 1 if not args.quick else 5, kinds, treatments),
        }
        results["speed"] = {"tud_campus": speed(TUD, work, treatments)}
        if not args.quick:
            results["speed"]["pets09"] = speed(pets_h264, work, treatments)
        n = 120 if args.quick else 210
        results["masked_live"] = {"720p": transcode_cost(TAMPERING, n), "432p": transcode_cost(PEOPLE_432P, n)}
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
