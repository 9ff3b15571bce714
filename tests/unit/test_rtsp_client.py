"""The RTSP client against a scripted camera (tests/support/fake_camera.py), for what a real server seldom does:
redirects, hanging up after a 401, requests from the server, refused keep-alives, garbage, silence, refusals."""

from __future__ import annotations

import threading
import time

import pytest

from support.fake_camera import FakeCamera, reply, standard
from support.node import wait_for
from support.rtp import RtpPacketizer, clip_units, interleave
from vigil.domain.errors import SourceError
from vigil.media.rtsp.source import open_rtsp


@pytest.fixture(scope="module")
def stream(synthetic_clip):
    """The clip's first 3 s as interleaved RTP, with a request from the server and junk after the first second."""
    pay = RtpPacketizer()
    pieces = [interleave(pay.packets(u.units, u.pts)) for u in clip_units(synthetic_clip, limit=75)]
    server_request = b"GET_PARAMETER rtsp://127.0.0.1/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    return b"".join(pieces[:25]) + server_request + b"\x17junk\x00" + b"".join(pieces[25:])


def read(url, seconds=10.0, timeout_s=3.0, count=None):
    """Read until ``count`` access units, or for ``seconds`` (the stop event ends a read that gets nothing)."""
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    source = open_rtsp(url, display_url="cam", timeout_s=timeout_s, stop=stop)
    units = []
    timer.start()
    try:
        for unit in source.packets():
            units.append(unit)
            if count is not None and len(units) >= count:
                break
    finally:
        timer.cancel()
        source.close()
    return source, units


def test_a_well_behaved_camera(stream):
    camera = FakeCamera(lambda r, c: standard(r), stream)
    try:
        source, units = read(camera.url(), count=75)
        # the camera must stay up to read the TEARDOWN the client sent as it closed
        wait_for(lambda: [r for r in camera.requests() if r.method == "TEARDOWN"], timeout=5, what="TEARDOWN on close")
    finally:
        camera.close()
    assert len(units) == 75 and units[0].is_keyframe
    assert [r.method for r in camera.requests()][:4] == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]
    setup = camera.requests()[2]
    assert setup.url == camera.url() + "/trackID=1" and "interleaved=0-1" in setup.headers["transport"]
    assert camera.requests()[3].headers["session"] == "F00D"
    assert source.session.buffer.skipped_bytes == len(b"\x17junk\x00")


def test_digest_after_a_camera_that_hangs_up_on_401(stream):
    def answer(request, connection):
        if "authorization" not in request.headers:
            challenge = 'Digest realm="cam", nonce="abc", qop="auth"'
            return reply(request, "401 Unauthorized", {"WWW-Authenticate": challenge, "Connection": "close"})
        assert request.headers["authorization"].startswith("Digest ")
        return standard(request)

    camera = FakeCamera(answer, stream)
    try:
        _, units = read(camera.url(userinfo="admin:secret@"), count=10)
    finally:
        camera.close()
    assert len(units) == 10 and len(camera.connections) >= 2


def test_a_redirect_is_followed(stream):
    target = FakeCamera(lambda r, c: standard(r), stream)

    def answer(request, connection):
        return reply(request, "302 Found", {"Location": target.url("moved")})

    origin = FakeCamera(answer)
    try:
        _, units = read(origin.url(), count=5)
    finally:
        origin.close()
        target.close()
    assert len(units) == 5 and target.requests()[0].url == target.url("moved")


@pytest.mark.parametrize(
    ("status", "cause", "words"),
    [
        ("404 Not Found", "stream_error", "no stream at this address"),
        ("461 Unsupported Transport", "stream_error", "does not send RTP over TCP"),
    ],
)
def test_refusals_say_what_happened(status, cause, words):
    def answer(request, connection):
        return reply(request, status) if request.method in ("DESCRIBE", "SETUP") else standard(request)

    camera = FakeCamera(answer)
    try:
        with pytest.raises(SourceError) as caught:
            read(camera.url())
    finally:
        camera.close()
    assert caught.value.cause == cause and words in caught.value.message
    assert caught.value.message.startswith("cam:"), "the display URL, never the one with credentials"


def test_an_unknown_authentication_scheme_is_an_auth_failure():
    camera = FakeCamera(lambda r, c: reply(r, "401 Unauthorized", {"WWW-Authenticate": 'Negotiate realm="x"'}))
    try:
        with pytest.raises(SourceError) as caught:
            read(camera.url(userinfo="a:b@"))
    finally:
        camera.close()
    assert caught.value.cause == "auth_failed" and "negotiate" in caught.value.message


def test_refused_keep_alives_fall_back_to_options(stream):
    def answer(request, connection):
        if request.method == "GET_PARAMETER":
            return reply(request, "501 Not Implemented")
        return standard(request)

    camera = FakeCamera(answer, stream)  # the session timeout is 4 s: a keep-alive every 2 s
    try:
        read(camera.url(), seconds=5.5)
    finally:
        camera.close()
    methods = [r.method for r in camera.requests()]
    assert "GET_PARAMETER" in methods and methods.index("GET_PARAMETER") < len(methods) - 1
    assert methods[methods.index("GET_PARAMETER") + 1 :].count("OPTIONS") >= 1


def test_silence_is_a_timeout_and_a_hang_up_is_the_end(stream):
    camera = FakeCamera(lambda r, c: standard(r), stream[:20000])
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            read(camera.url(), timeout_s=1.0)
        assert 0.9 < time.monotonic() - started < 3.0
    finally:
        camera.close()

    def hang_up(request, connection):
        return None if request.method == "GET_PARAMETER" else standard(request)

    camera = FakeCamera(hang_up, stream)
    try:
        with pytest.raises(EOFError):
            read(camera.url(), seconds=8)
    finally:
        camera.close()


def test_an_absolute_control_url_is_used_as_it_is(stream):
    camera = FakeCamera(lambda r, c: standard(r, control=f"rtsp://127.0.0.1:{camera.port}/other/track9"), stream)
    try:
        read(camera.url(), count=3)
    finally:
        camera.close()
    assert camera.requests()[2].url.endswith("/other/track9")
