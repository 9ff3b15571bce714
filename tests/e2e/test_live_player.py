"""The browser live player (``web/static/live.js``) in Debian's Chromium, fed by a real LiveHub reading a real
RTSP camera (the GStreamer simulator). The page and WebSocket come from a test-only app (support.live_app)."""

import statistics
import time

import pytest

from support.browser import requires_chromium
from support.live_app import SentLog, make_app, serve
from vigil.media.live import LiveLimits

pytestmark = requires_chromium


@pytest.fixture
def camera(synthetic_clip, rtsp_simulator):
    return rtsp_simulator({"cam": synthetic_clip})


@pytest.fixture
def site(camera):
    sent = SentLog()
    limits = LiveLimits(grace_s=1.0, timeout_s=3.0, reconnect_initial_s=0.2, reconnect_max_s=1.0)
    with serve(make_app(lambda cam, stream: camera.url(cam), limits, sent)) as base:
        yield base, sent


def states(page):
    return page.evaluate("window.live.states")


def wait_for_state(page, name, count=1, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while True:
        found = [s for s in states(page) if s["state"] == name]
        if len(found) >= count:
            return found[count - 1]
        assert time.monotonic() < deadline, f"no {name!r} state; states: {states(page)}"
        time.sleep(0.05)


def current_time(page):
    return page.evaluate("document.getElementById('video').currentTime")


def server_to_screen_s(page, sent: SentLog) -> list[float]:
    """For each frame the browser showed: when it was shown minus when its fragment left the server."""
    sent_at = {round(media_s, 3): at for media_s, at in list(sent.fragments)}
    delays = []
    for frame in page.evaluate("window.live.frames"):
        at = sent_at.get(round(frame["mediaTime"], 3))
        if at is not None:
            delays.append(frame["shownAtMs"] / 1000 - at)
    return delays


def test_the_player_shows_live_moving_video(browser, site):
    base, sent = site
    page = browser.new_page()
    try:
        page.goto(base + "/?camera=cam&stream=main")
        playing = wait_for_state(page, "playing")
        print(f"\nChromium: first frame {playing['firstFrameMs']} ms after the WebSocket was opened")
        assert playing["firstFrameMs"] < 1500
        before = current_time(page)
        time.sleep(1.5)
        after = current_time(page)
        assert after - before > 1.0, "the video plays on"
        picture = page.evaluate("window.snapshot()")
        assert (picture["width"], picture["height"]) == (640, 360)
        assert picture["max"] - picture["min"] > 40, f"the frame is blank: {picture}"
        delays = server_to_screen_s(page, sent)
        assert len(delays) > 30, "the shown frames are the fragments sent"
        print(
            f"Chromium: fragment sent -> frame shown: median {statistics.median(delays) * 1000:.0f} ms, "
            f"max {max(delays) * 1000:.0f} ms over {len(delays)} frames"
        )
        assert statistics.median(delays) < 0.5
    finally:
        page.close()


def test_the_player_starts_again_when_the_camera_comes_back(browser, site, camera):
    base, _ = site
    page = browser.new_page()
    try:
        page.goto(base + "/")
        wait_for_state(page, "playing")
        camera.stop()
        error = wait_for_state(page, "error")
        assert "rtsp://127.0.0.1" in error["detail"]
        camera.start()
        wait_for_state(page, "playing", count=2, timeout_s=10)
        before = current_time(page)
        time.sleep(1.0)
        assert current_time(page) - before > 0.6, "the new stream plays"
        assert page.evaluate("window.snapshot()")["max"] > 0
    finally:
        page.close()
