"""One still picture of a camera as a JPEG: the first keyframe of a recorded segment, or of the live stream when
nothing recent is recorded. The console draws zones, lines and masks on it (their points are fractions of the
picture, so any of the camera's streams serves)."""

from __future__ import annotations

import av
import cv2
import numpy as np

from vigil.domain.errors import SourceError, StorageError
from vigil.domain.segment import GapCause
from vigil.media.sources import open_source

MAX_WIDTH = 1280


def keyframe_jpeg(url: str, display_url: str, timeout_s: float = 8.0, max_width: int = MAX_WIDTH) -> bytes:
    """The first keyframe of ``url`` (``file://`` segment or camera, ``rtsp://``) as a JPEG at most ``max_width``
    wide. Raises SourceError when the source cannot be opened or has no picture."""
    return _jpeg(keyframe_bgr(url, display_url, timeout_s), max_width)


def keyframe_bgr(url: str, display_url: str, timeout_s: float = 8.0) -> np.ndarray:
    """The first keyframe of ``url`` as a BGR array at its own size (SourceError as ``keyframe_jpeg``)."""
    source = open_source(url, display_url=display_url, timeout_s=timeout_s, loop_files=False)
    try:
        ctx = source.stream.codec_context
        ctx.skip_frame = "NONKEY"
        for packet in source.container.demux(source.stream):
            if packet.size == 0 or not packet.is_keyframe:
                continue
            for frame in packet.decode():
                return np.asarray(frame.to_ndarray(format="bgr24"))
        for frame in ctx.decode(None):  # a decoder that holds pictures back (B-pictures) gives them at the end
            return np.asarray(frame.to_ndarray(format="bgr24"))
    except av.FFmpegError as exc:
        raise SourceError(f"{display_url}: cannot decode a picture: {exc}", GapCause.STREAM_ERROR) from None
    finally:
        source.container.close()
    raise SourceError(f"{display_url}: no picture in the stream", GapCause.STREAM_ERROR)


def _jpeg(bgr: np.ndarray, max_width: int) -> bytes:
    height, width = bgr.shape[:2]
    if width > max_width:
        bgr = cv2.resize(bgr, (max_width, round(height * max_width / width)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise StorageError("the picture could not be encoded as JPEG")
    return bytes(data.tobytes())
