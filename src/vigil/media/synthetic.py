"""Synthetic H.264 (or H.265) clips for tests and for the demo when no real footage is at hand.

The picture is a textured background with moving blocks and a frame counter bar, so that every frame
differs from its neighbours and a decoded frame can be told from a blank one.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def synthetic_frame(index: int, width: int, height: int) -> np.ndarray:
    """One RGB frame (height x width x 3, uint8) for frame number ``index``."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = ((xx // 16 + yy // 16) % 2 * 40 + 60).astype(np.uint8)
    frame = np.stack([base, base, base], axis=-1)
    size = max(8, height // 6)
    for k, colour in enumerate(((220, 40, 40), (40, 200, 60), (50, 80, 230))):
        x = (index * (4 + 3 * k) + k * width // 3) % max(1, width - size)
        y = (height // 4 + k * height // 4 + int(10 * np.sin(index / 7 + k))) % max(1, height - size)
        frame[y : y + size, x : x + size] = colour
    bits = index % 1024
    cell = max(2, width // 40)
    for b in range(10):
        value = 255 if bits >> b & 1 else 0
        frame[height - cell :, b * cell : (b + 1) * cell] = value
    return frame


def make_synthetic_clip(
    path: str | Path,
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    duration_s: float = 6.0,
    gop_s: float = 1.0,
    bitrate_kbps: int | None = None,
    noise: int = 0,
    codec: str = "libx264",
    bframes: int = 0,
) -> Path:
    """Encode a synthetic clip with libx264 (baseline-friendly settings, a keyframe every ``gop_s``).
    ``noise`` (0-64) adds random grain so the clip does not compress well (for disk-filling tests); ``codec``
    ``libx265`` makes an H.265 clip; ``bframes`` > 0 adds reordered B-pictures."""
    if codec not in ("libx264", "libx265"):
        raise ValueError(f"synthetic clips are libx264 or libx265, not {codec}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp" + out.suffix)
    frames = max(1, round(duration_s * fps))
    with av.open(str(tmp), "w") as container:
        if codec == "libx265":
            stream = container.add_stream("libx265", rate=fps)
        else:
            stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        gop = max(1, round(gop_s * fps))
        options = {
            "g": str(gop),
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "bf": str(bframes),
            "preset": "veryfast",
        }
        if codec == "libx265":
            params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:log-level=error"
            options = {"preset": "veryfast", "x265-params": params}
        if bitrate_kbps:
            stream.bit_rate = bitrate_kbps * 1000
        else:
            options["crf"] = "28"
        stream.codec_context.options = options
        stream.codec_context.time_base = Fraction(1, fps)
        rng = np.random.default_rng(1)
        for i in range(frames):
            picture = synthetic_frame(i, width, height)
            if noise:
                grain = rng.integers(-noise, noise + 1, size=picture.shape, dtype=np.int16)
                picture = np.clip(picture.astype(np.int16) + grain, 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    tmp.replace(out)
    return out
