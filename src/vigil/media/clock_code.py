"""Reading the time a clock camera (``RtspSimulator(clocks=...)``) wrote into its picture: 32 blocks across the
top 40 rows hold the low 32 bits of the UTC time in milliseconds, the next 40 rows the same bits inverted.
The browser side of the glass-to-glass benchmark does the same in JavaScript (``tests/support/live_app.py``)."""

from __future__ import annotations

import numpy as np

BITS = 32
WRAP_MS = 1 << BITS


def read_clock(luma: np.ndarray, now_ms: int) -> int | None:
    """The UTC time in milliseconds written in a frame's luminance (any size: the blocks scale with the
    picture), taken as the instant nearest ``now_ms`` with those low bits; None when a bit does not read
    (its block and the inverted one below it disagree: not a clock picture, or a damaged one)."""
    height, width = luma.shape[:2]
    top, bottom = round(height * 20 / 360), round(height * 60 / 360)
    value = 0
    for i in range(BITS):
        x = round((i + 0.5) * width / BITS)
        bit, inverse = luma[top, x] > 128, luma[bottom, x] > 128
        if bit == inverse:
            return None
        value = (value << 1) | int(bit)
    full = (now_ms - now_ms % WRAP_MS) + value
    if full - now_ms > WRAP_MS // 2:
        full -= WRAP_MS
    elif now_ms - full > WRAP_MS // 2:
        full += WRAP_MS
    return full
