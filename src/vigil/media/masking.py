"""Privacy masks burned into pictures: the polygons' pixels filled in with one flat grey, on the server (an overlay
drawn by a browser hides nothing from a person who opens the stream another way).

:class:`MaskPainter` fills a decoded video picture (in YUV 4:2:0, the decoder's own format, so no colour
conversion is paid) or a BGR picture; :func:`mask_jpeg` does it to a JPEG (event snapshots, the camera's picture).
The pixel mask is computed once per picture size.
"""

from __future__ import annotations

from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from vigil.domain.errors import StorageError
from vigil.domain.privacy import Masks, pixel_polygons

FILL_LUMA = 128  # a flat mid grey: Y 128, U and V 128 (no colour); BGR (128, 128, 128)
FILL_CHROMA = 128
FILL_BGR = (128, 128, 128)
JPEG_QUALITY = 85

Bool2D = npt.NDArray[np.bool_]


class MaskPainter:
    """Fills the privacy masks of one camera into its pictures."""

    def __init__(self, masks: Masks) -> None:
        self.masks = masks
        self._cache: dict[tuple[int, int], tuple[Bool2D, Bool2D]] = {}

    def pixels(self, width: int, height: int) -> tuple[Bool2D, Bool2D]:
        """(luma mask ``height`` x ``width``, chroma mask at half size): True where a mask covers."""
        key = (width, height)
        if key not in self._cache:
            full = np.zeros((height, width), np.uint8)
            polygons = [np.array(p, np.int32) for p in pixel_polygons(self.masks, width, height)]
            cv2.fillPoly(full, polygons, 1)
            luma = full.astype(bool)
            # a chroma sample covers 2x2 luma pixels: masked when any of them is, so no colour bleeds out
            padded = np.pad(luma, ((0, height % 2), (0, width % 2)))
            chroma = np.asarray(padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).any(axis=(1, 3)))
            self._cache[key] = (luma, chroma)
        return self._cache[key]

    def frame(self, frame: Any) -> Any:
        """A new picture (yuv420p) with the masks filled in; ``frame`` (maybe the decoder's reference) is left
        alone."""
        if not self.masks:
            return frame
        if frame.format.name != "yuv420p":
            frame = frame.reformat(format="yuv420p")
        width, height = frame.width, frame.height
        planes = frame.to_ndarray()  # a copy: (height * 3 / 2) x width, Y then U then V
        luma, chroma = self.pixels(width, height)
        y = planes[:height]
        y[luma] = FILL_LUMA
        cw, ch = (width + 1) // 2, (height + 1) // 2
        u = planes[height:].reshape(-1)[: cw * ch].reshape(ch, cw)
        v = planes[height:].reshape(-1)[cw * ch : 2 * cw * ch].reshape(ch, cw)
        u[chroma[:ch, :cw]] = FILL_CHROMA
        v[chroma[:ch, :cw]] = FILL_CHROMA
        out = av.VideoFrame.from_ndarray(planes, format="yuv420p")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        return out

    def bgr(self, picture: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        """The picture with the masks filled in (in place; returned for chaining)."""
        if self.masks:
            luma, _ = self.pixels(picture.shape[1], picture.shape[0])
            picture[luma] = FILL_BGR
        return picture


def mask_jpeg(data: bytes, masks: Masks) -> bytes:
    """A JPEG with the masks filled in (``data`` itself when there are none)."""
    if not masks:
        return data
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise StorageError("the picture could not be read as a JPEG")
    picture = np.asarray(decoded, np.uint8)
    MaskPainter(masks).bgr(picture)
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise StorageError("the masked picture could not be encoded as JPEG")
    return bytes(encoded.tobytes())
