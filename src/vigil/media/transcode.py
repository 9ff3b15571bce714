"""One-time H.264 transcodes of footage, cached on disk, so any clip can be served as a camera.

Old clips (MPEG-4 Part 2, MS-MPEG4 in AVI) cannot be sent over RTP as they are. ``ensure_h264`` turns a
clip into a camera-like H.264 MP4 once (fixed GOP, no B-frames, no audio) and reuses the result while
the source file and the parameters stay the same.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

logger = logging.getLogger(__name__)

MP4_FORMAT = "mp4"  # one of the names of FFmpeg's "mov,mp4,m4a,3gp,3g2,mj2" demuxer
DEFAULT_FPS = Fraction(25)
_MAX_FPS = 120
_CACHE_VERSION = "1"  # bump when the encoding settings change, to invalidate old cache entries


def is_h264_mp4(path: Path) -> bool:
    """True when ``path`` is an MP4/MOV file whose first video stream is H.264."""
    try:
        with av.open(str(path)) as container:
            if MP4_FORMAT not in container.format.name.split(","):
                return False
            videos = container.streams.video
            return bool(videos) and videos[0].codec_context.name == "h264"
    except av.FFmpegError:
        return False


def ensure_h264(
    src: Path,
    cache_dir: Path,
    *,
    height: int | None = None,
    bitrate_kbps: int | None = None,
    gop_s: float = 2.0,
    always: bool = False,
) -> Path:
    """Return an H.264 MP4 with the content of ``src``: ``src`` itself when no work is needed (unless
    ``always``: then it is re-encoded with a keyframe every ``gop_s``; some H.264 MP4s, such as the Intel
    samples, stall GStreamer's RTSP server after their first loop, and a re-encoded copy plays steadily).

    ``height`` scales the picture keeping its aspect ratio; ``bitrate_kbps`` caps the bit rate (otherwise
    constant quality). The transcode is written once into ``cache_dir`` under a name keyed by the source's
    path, size and modification time and by the parameters; it is written under a temporary name and
    renamed, so an interrupted transcode never leaves a partial file behind.
    """
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"no such video file: {src}")
    if not always and height is None and bitrate_kbps is None and is_h264_mp4(src):
        return src
    if gop_s <= 0:
        raise ValueError(f"gop_s must be positive, got {gop_s}")
    if height is not None and height < 16:
        raise ValueError(f"height too small: {height}")
    target = cache_dir / cache_name(src, height=height, bitrate_kbps=bitrate_kbps, gop_s=gop_s)
    if target.is_file():
        logger.debug("transcode cache hit for %s: %s", src, target)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.{os.getpid()}.partial.mp4")
    logger.info("transcoding %s to H.264 (height=%s, bitrate=%s kb/s)", src, height, bitrate_kbps)
    try:
        _transcode(src, partial, height=height, bitrate_kbps=bitrate_kbps, gop_s=gop_s)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def cache_name(src: Path, *, height: int | None, bitrate_kbps: int | None, gop_s: float) -> str:
    """The cache file name for a source file and a set of transcode parameters."""
    stat = src.stat()
    key = "|".join(
        str(part)
        for part in (_CACHE_VERSION, src.resolve(), stat.st_size, stat.st_mtime_ns, height, bitrate_kbps, gop_s)
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", src.stem).strip("-") or "clip"
    return f"{stem}-{digest}.mp4"


def source_fps(stream: Any) -> Fraction:
    """The source's nominal frame rate, or 25 when it is unknown or absurd."""
    for rate in (stream.guessed_rate, stream.average_rate, stream.base_rate):
        if rate and 0 < rate <= _MAX_FPS:
            return Fraction(rate).limit_denominator(1001)
    return DEFAULT_FPS


def output_size(width: int, height: int, target_height: int | None) -> tuple[int, int]:
    """Even dimensions for yuv420p, scaled to ``target_height`` keeping the aspect ratio."""
    if target_height is None:
        return width - width % 2, height - height % 2
    out_w = max(2, round(width * target_height / height / 2) * 2)
    return out_w, target_height - target_height % 2


def _transcode(src: Path, dst: Path, *, height: int | None, bitrate_kbps: int | None, gop_s: float) -> None:
    with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as sink:
        in_stream = source.streams.video[0]
        in_stream.thread_type = "AUTO"
        fps = source_fps(in_stream)
        width, out_height = output_size(in_stream.codec_context.width, in_stream.codec_context.height, height)
        out = sink.add_stream("libx264", rate=fps)
        out.width, out.height, out.pix_fmt = width, out_height, "yuv420p"
        out.codec_context.time_base = 1 / fps
        gop = max(1, round(gop_s * fps))
        options = {"preset": "veryfast", "g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bf": "0"}
        if bitrate_kbps:
            out.bit_rate = bitrate_kbps * 1000
            options |= {"maxrate": f"{bitrate_kbps}k", "bufsize": f"{2 * bitrate_kbps}k"}
        else:
            options["crf"] = "23"
        out.codec_context.options = options
        count = 0
        for frame in _decoded(source, in_stream):
            picture = frame.reformat(width=width, height=out_height, format="yuv420p")
            picture.pts, picture.time_base = count, out.codec_context.time_base
            count += 1
            sink.mux(out.encode(picture))
        sink.mux(out.encode(None))
    if count == 0:
        raise ValueError(f"no decodable video frames in {src}")
    logger.info("transcoded %s: %d frames at %s fps, %dx%d", src, count, fps, width, out_height)


def _decoded(source: Any, stream: Any) -> Iterator[Any]:
    """Decoded frames of ``stream``, skipping packets the decoder rejects (old AVI files have some)."""
    for packet in source.demux(stream):
        try:
            yield from packet.decode()
        except av.error.InvalidDataError:
            logger.debug("skipping an undecodable packet in %s", source.name)
