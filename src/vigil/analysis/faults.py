"""Camera faults seen in the picture: frozen, black, overexposed, blurred, covered, moved.

Feed the luminance plane of each analysed frame with its time. Each frame yields a few measures against a
*reference* (the healthy picture: the first frame, then followed slowly while no fault is suspected):

- **detail**: the energy of the Laplacian (mean square), against the reference's; it falls when the lens
  is covered, and also when a detailed object leaves the view;
- **focus**: the detail at full size over the detail at half size, against the reference's; blur removes the
  fine scale first, so this falls on defocus while a change of content moves both scales together;
- **change**: the share of a heavily smoothed 64x36 picture that differs from the reference's by more than
  ``layout_change`` levels once the global brightness step is removed (the scene's layout, not its detail);
- **pan**: the shift between consecutive frames that at least ``pan_blocks`` of 3x3 blocks agree on (phase
  correlation), summed while the picture keeps turning;
- brightness percentiles, and the mean step from the last frame against the scene's usual steps.

A fault is *suspected* while its condition holds and *raised* once it has held for its hold time; its onset is
the first suspected frame. It *clears* once the condition has been false for ``clear_s``. The conditions:

- ``black``: 95% of the picture dark; ``overexposed``: 95% of it near white;
- ``frozen``: frames that repeat (a step under a tenth of the scene's usual one and under a third of its
  quietest) for ``frozen_s`` in a lively scene, ``frozen_static_s`` in a usually still one;
- ``moved``: the picture turned by ``moved_fraction`` while detail stays visible, or a changed view that
  stays for ``moved_settle_s`` (the camera was turned while nobody watched);
- ``covered``: part of the view changed and the detail is gone (something over the lens);
- ``blurred``: the focus measure fell while the view is the same (defocus, dirt, fog on the lens).

Thresholds were set on the clips of ``bench/faults.py`` (there is no held-out set of real tampering yet).
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[Any]
LAYOUT_SIZE = (64, 36)
PAN_SIZE = (128, 72)


class FaultKind(enum.StrEnum):
    FROZEN = "frozen"
    BLACK = "black"
    OVEREXPOSED = "overexposed"
    BLURRED = "blurred"
    COVERED = "covered"
    MOVED = "moved"


@dataclass(frozen=True, slots=True)
class FaultSettings:
    hold_s: float = 0.2  # a condition must hold this long (two frames at 5 fps) to raise its fault
    clear_s: float = 2.0  # ... and be gone this long to clear it
    dark_level: float = 40.0  # black: 95% of the picture below this level
    bright_level: float = 225.0  # overexposed: 95% of the picture above this level
    frozen_s: float = 0.6  # repeated frames for this long where the picture usually changes (lively_step)
    frozen_static_s: float = 10.0  # ... and where it is usually still
    frozen_max_diff: int = 8  # a repeated frame differs from the last by at most this many levels anywhere
    frozen_min_step: float = 0.005  # ... and on average by less than this, or than the scene's noise allows
    lively_step: float = 0.1  # a scene whose usual mean frame step is at least this is lively
    blur_ratio: float = 0.5  # blurred: focus (fine over coarse detail) under this share of the reference's
    cover_ratio: float = 0.75  # covered: detail under this share of the reference's and the layout changed
    layout_change: float = 18.0  # a level difference of the smoothed picture that counts as changed ...
    changed_share: float = 0.5  # ... over this share of the picture: the view changed
    moved_fraction: float = 0.05  # a pan or tilt of this share of the picture
    pan_response: float = 0.2  # phase-correlation peak that counts as a block of the picture shifting
    pan_blocks: int = 6  # blocks of the 3x3 that must shift together for the camera to be turning
    moved_settle_s: float = 10.0  # a changed view with no turn seen must stay this long to count as moved
    covered_share: float = 0.2  # covered: this share of the view changed and the detail gone
    min_detail: float = 0.2  # below this share of the usual detail nothing can be seen to move: covered
    reference_s: float = 60.0  # time constant with which the reference follows a healthy picture


def _detail(gray: Plane) -> float:
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    return float(np.mean(cv2.multiply(lap, lap)))


@dataclass(frozen=True, slots=True)
class FaultChange:
    kind: FaultKind
    raised: bool  # True: the fault began at onset_us; False: it cleared at at_us
    onset_us: int
    at_us: int
    detail: str


@dataclass(frozen=True, slots=True)
class PictureMeasures:
    mean: float
    p5: float
    p95: float
    sharpness: float  # detail: energy of the Laplacian
    focus: float  # fine detail over coarse detail (the Laplacian's energy at full and half size)
    change: float  # share of the smoothed picture that differs from the reference by layout_change or more
    pan_px: float
    identical: bool  # no more change from the last frame than an encoder's refinement of a still picture
    step: float  # mean absolute difference from the last frame (-1 for the first)


@dataclass
class _Track:
    since_us: int | None = None  # first frame of the current run of suspicion
    last_true_us: int = 0
    raised: bool = False


@dataclass
class PictureFaults:
    """One camera's picture-fault checker. :meth:`apply` returns the faults raised or cleared by this frame."""

    fps: float
    settings: FaultSettings = field(default_factory=FaultSettings)
    _ref_layout: Plane | None = None
    _ref_sharpness: float = 0.0
    _ref_focus: float = 0.0
    _layout: Plane | None = None  # the last frame's smoothed layout
    _prev: Plane | None = None
    _prev_pan: Plane | None = None
    _pan_px: float = 0.0
    _moving_frames: deque[bool] = field(default_factory=lambda: deque(maxlen=50))
    _tracks: dict[FaultKind, _Track] = field(default_factory=lambda: {k: _Track() for k in FaultKind})
    _window: Plane | None = None
    _steps: deque[float] = field(default_factory=lambda: deque(maxlen=300))  # healthy frame steps, recent

    @property
    def active(self) -> dict[FaultKind, int]:
        """Raised faults and their onsets."""
        return {k: t.since_us or 0 for k, t in self._tracks.items() if t.raised}

    def apply(self, gray: Plane, at_us: int) -> list[FaultChange]:
        m = self.measure(gray)
        suspected = self.suspect(m)
        changes = [c for kind in FaultKind if (c := self._step(kind, suspected.get(kind), at_us, m)) is not None]
        if not suspected and not any(t.raised for t in self._tracks.values()):
            self._follow(m)
            if m.step >= 0:
                self._steps.append(m.step)
        return changes

    # --- measures -------------------------------------------------------------------------------
    def measure(self, gray: Plane) -> PictureMeasures:
        small = cv2.resize(gray, LAYOUT_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        layout = cv2.GaussianBlur(small, (5, 5), 0)
        self._layout = layout  # the reference follows it when the frame is healthy
        sharpness = _detail(gray)
        focus = sharpness / max(_detail(cv2.pyrDown(gray)), 1e-6)
        if self._ref_layout is None or self._ref_layout.shape != layout.shape:
            self._ref_layout, self._ref_sharpness, self._ref_focus = layout, sharpness, focus
        still, step = False, -1.0
        if self._prev is not None and self._prev.shape == gray.shape:
            diff = cv2.absdiff(gray, self._prev)
            step = float(np.mean(diff))
            still = int(diff.max()) <= self.settings.frozen_max_diff and step < self._still_limit()
        self._prev = gray.copy()
        low, high = np.percentile(small, (5, 95))
        return PictureMeasures(
            mean=float(small.mean()),
            p5=float(low),
            p95=float(high),
            sharpness=sharpness,
            focus=focus,
            change=self._change(layout),
            pan_px=self._pan(gray),
            identical=still,
            step=step,
        )

    def _still_limit(self) -> float:
        """A frame step this small is a repeat: under a tenth of the scene's usual step and under a third of its
        quietest steps (an empty room still shows its noise and its encoder's flicker; a frozen feed does not)."""
        if len(self._steps) < self.fps * 5:
            return self.settings.frozen_min_step
        usual, quiet = (float(v) for v in np.percentile(self._steps, (50, 10)))
        return max(self.settings.frozen_min_step, min(0.1 * usual, 0.3 * quiet))

    def _lively(self) -> bool:
        """Does this scene usually change from frame to frame? Then a still picture is soon a frozen one."""
        return len(self._steps) >= self.fps * 5 and float(np.median(self._steps)) >= self.settings.lively_step

    def _change(self, layout: Plane) -> float:
        """Share of the smoothed picture unlike the reference, after removing the global brightness step
        (auto-exposure reacting to a white car darkens everything; that is not a new view)."""
        assert self._ref_layout is not None
        diff = layout - self._ref_layout
        diff -= np.float32(np.median(diff))
        return float(np.mean(np.abs(diff) >= self.settings.layout_change))

    def _pan(self, gray: Plane) -> float:
        """Global shift from the last frame, summed over consecutive moving frames, as a share of the picture.

        The picture is cut into 3x3 blocks and each block's shift found by phase correlation; the frame counts
        as moving only when at least ``pan_blocks`` blocks agree on one shift and the rest do not stand still:
        a lorry crossing the view moves a few blocks, a camera being turned moves them all."""
        pan = cv2.resize(gray, PAN_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        moving = False
        if self._prev_pan is not None and self._prev_pan.shape == pan.shape:
            shift = self._agreed_shift(self._prev_pan, pan)
            if shift is not None:
                step = float(np.hypot(shift[0] / PAN_SIZE[0], shift[1] / PAN_SIZE[1]))
                moving = step >= 1.0 / PAN_SIZE[1]  # a pixel or more of the pan picture
                if moving:
                    self._pan_px += step
        self._prev_pan = pan
        self._moving_frames.append(moving)
        if not any(list(self._moving_frames)[-max(2, round(self.fps)) :]):
            self._pan_px = 0.0  # the pan stopped a second ago: the next one counts afresh
        return self._pan_px

    def _agreed_shift(self, before: Plane, after: Plane) -> tuple[float, float] | None:
        bw, bh = PAN_SIZE[0] // 3, PAN_SIZE[1] // 3
        if self._window is None:
            self._window = cv2.createHanningWindow((bw, bh), cv2.CV_32F)
        shifts: list[tuple[float, float]] = []
        for by in range(3):
            for bx in range(3):
                a = np.ascontiguousarray(before[by * bh : (by + 1) * bh, bx * bw : (bx + 1) * bw])
                b = np.ascontiguousarray(after[by * bh : (by + 1) * bh, bx * bw : (bx + 1) * bw])
                (dx, dy), response = cv2.phaseCorrelate(a, b, self._window)
                if response >= self.settings.pan_response:
                    shifts.append((float(dx), float(dy)))
        if sum(1 for x, y in shifts if abs(x) <= 1.0 and abs(y) <= 1.0) >= 2:
            return None  # part of the picture stands still: something moved in front of the camera
        for dx, dy in shifts:
            agree = [(x, y) for x, y in shifts if abs(x - dx) <= 1.5 and abs(y - dy) <= 1.5]
            if len(agree) >= self.settings.pan_blocks:
                return float(np.mean([x for x, _ in agree])), float(np.mean([y for _, y in agree]))
        return None

    # --- decisions ------------------------------------------------------------------------------
    def suspect(self, m: PictureMeasures) -> dict[FaultKind, float]:
        """The faults this frame suggests, each with how long it must persist to be raised."""
        s = self.settings
        if m.p95 < s.dark_level:
            return {FaultKind.BLACK: s.hold_s}  # a dark picture has no detail to judge
        if m.p5 > s.bright_level:
            return {FaultKind.OVEREXPOSED: s.hold_s}
        out: dict[FaultKind, float] = {}
        if m.identical:
            out[FaultKind.FROZEN] = s.frozen_s if self._lively() else s.frozen_static_s
        ratio = m.sharpness / self._ref_sharpness if self._ref_sharpness > 0 else 1.0
        changed = m.change >= s.changed_share
        visible = ratio >= s.min_detail
        turned = m.pan_px >= s.moved_fraction and m.change >= s.covered_share
        if visible and (turned or (changed and self._tracks[FaultKind.MOVED].raised)):
            out[FaultKind.MOVED] = s.hold_s  # turned away (or still looking elsewhere)
        elif m.change >= s.covered_share and ratio < s.cover_ratio:
            out[FaultKind.COVERED] = s.hold_s
        elif changed and visible:
            out[FaultKind.MOVED] = s.moved_settle_s  # another view with no pan seen: make sure it stays
        elif m.focus < s.blur_ratio * self._ref_focus:
            out[FaultKind.BLURRED] = s.hold_s
        return out

    def _step(self, kind: FaultKind, hold_s: float | None, at_us: int, m: PictureMeasures) -> FaultChange | None:
        track, s = self._tracks[kind], self.settings
        if hold_s is not None:
            if track.since_us is None:
                track.since_us = at_us
            track.last_true_us = at_us
            if not track.raised and at_us - track.since_us >= int(hold_s * 1e6):
                track.raised = True
                return FaultChange(kind, True, track.since_us, at_us, self._describe(kind, m))
            return None
        if track.raised and at_us - track.last_true_us >= int(s.clear_s * 1e6):
            onset = track.since_us or at_us
            self._tracks[kind] = _Track()
            return FaultChange(kind, False, onset, at_us, "the picture recovered")
        if not track.raised:
            track.since_us = None
        return None

    def _follow(self, m: PictureMeasures) -> None:
        """Let the reference follow a healthy picture slowly (light through the day, seasons, a parked car)."""
        assert self._ref_layout is not None and self._layout is not None
        rate = min(1.0, 1.0 / max(self.settings.reference_s * self.fps, 1.0))
        cv2.accumulateWeighted(self._layout, self._ref_layout, rate)
        self._ref_sharpness += rate * (m.sharpness - self._ref_sharpness)
        self._ref_focus += rate * (m.focus - self._ref_focus)

    def _describe(self, kind: FaultKind, m: PictureMeasures) -> str:
        ratio = m.sharpness / self._ref_sharpness if self._ref_sharpness > 0 else 1.0
        focus = m.focus / self._ref_focus if self._ref_focus > 0 else 1.0
        return {
            FaultKind.BLACK: f"the picture is black or too dark (95% below level {m.p95:.0f})",
            FaultKind.OVEREXPOSED: f"the picture is washed out (95% above level {m.p5:.0f})",
            FaultKind.FROZEN: "the picture is frozen (identical frames)",
            FaultKind.BLURRED: f"the picture is blurred ({100 * focus:.0f}% of its usual focus)",
            FaultKind.COVERED: f"the lens is covered ({100 * ratio:.0f}% of its usual detail, view changed)",
            FaultKind.MOVED: f"the camera moved ({100 * m.change:.0f}% of the view changed, pan {100 * m.pan_px:.0f}%)",
        }[kind]
