"""Live view against a real RTSP camera (the GStreamer simulator on 127.0.0.1): LiveHub and LiveReader."""

import asyncio
import io
import json
import statistics
import threading
import time

import av
import pytest

from vigil.domain.errors import NotFound
from vigil.media.fmp4 import Fragment, fragment_info
from vigil.media.live import LiveHub, LiveLimits
from vigil.media.live_reader import LiveReader, LiveSpec, StreamFailed, StreamStarted

FAST = LiveLimits(grace_s=0.5, timeout_s=3.0, reconnect_initial_s=0.2, reconnect_max_s=1.0)


def run(scenario, resolve, limits=FAST):
    """Run ``scenario(hub)`` on a fresh event loop with a hub that is closed afterwards."""

    async def main():
        hub = LiveHub(resolve, limits)
        try:
            return await scenario(hub)
        finally:
            await hub.close()

    return asyncio.run(main())


async def next_message(subscription, timeout_s=5.0):
    return await asyncio.wait_for(anext(subscription), timeout_s)


async def until_init(subscription, timeout_s=10.0):
    """Skip to the next init control message; returns (its JSON, the init segment, the messages skipped)."""
    skipped = []
    deadline = time.monotonic() + timeout_s
    while True:
        message = await next_message(subscription, max(0.1, deadline - time.monotonic()))
        if isinstance(message, str) and json.loads(message)["type"] == "init":
            return json.loads(message), await next_message(subscription), skipped
        skipped.append(message)


async def fragments(subscription, count):
    out = []
    while len(out) < count:
        message = await next_message(subscription)
        assert isinstance(message, bytes) and message[4:8] == b"moof", message[:40]
        out.append(message)
    return out


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


def live_threads(label="cam/main"):
    return [t for t in threading.enumerate() if t.name == f"live-{label}" and t.is_alive()]


def wait_until(condition, timeout_s, what):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_two_viewers_share_one_reader_and_start_at_a_keyframe(synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})

    async def scenario(hub):
        started = time.monotonic()
        async with hub.subscribe("cam", "main") as first:
            control, init, skipped = await until_init(first)
            assert not skipped
            assert control == {"type": "init", "codec": 'video/mp4; codecs="avc1.64001e"', "width": 640, "height": 360}
            assert init[4:8] == b"ftyp"
            head = await fragments(first, 1)
            first_fragment_s = time.monotonic() - started
            assert fragment_info(head[0]).keyframe
            await fragments(first, 12)  # half a GOP: the second viewer joins mid-GOP
            joined = time.monotonic()
            async with hub.subscribe("cam", "main") as second:
                control2, init2, _ = await until_init(second, 1.0)
                burst = await fragments(second, 1)
                second_first_s = time.monotonic() - joined
                rest = await fragments(second, 40)
                await fragments(first, 40)
                assert hub.streams() == [("cam", "main")] and hub.viewers("cam", "main") == 2
                assert len(live_threads()) == 1, "one reader for both viewers"
        return first_fragment_s, second_first_s, control2, init2, burst + rest

    first_s, second_s, control2, init2, seen = run(scenario, lambda cam, stream: sim.url(cam))
    print(f"\nsubscribe -> first fragment: first viewer {first_s * 1000:.0f} ms, second {second_s * 1000:.0f} ms")
    assert first_s < 1.5, "a viewer's first fragment comes within the 1.5 s budget"
    assert second_s < 0.5, "a viewer joining a running stream gets the current GOP at once"
    assert control2["codec"] == 'video/mp4; codecs="avc1.64001e"'
    assert fragment_info(seen[0]).keyframe
    assert decoded_frames(init2 + b"".join(seen)) == len(seen)


def test_a_viewer_that_never_reads_does_not_hold_up_another(synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})
    limits = LiveLimits(grace_s=0.5, queue_fragments=10, timeout_s=3.0)

    async def scenario(hub):
        async with hub.subscribe("cam", "main") as reader, hub.subscribe("cam", "main") as sleeper:
            await until_init(reader)
            started = time.monotonic()
            await fragments(reader, 60)  # 2.4 s of video at 25 fps
            elapsed = time.monotonic() - started
            assert sleeper.pending() <= 10 + 2, "the idle viewer's queue stays bounded"
            assert sleeper.dropped > 0
            _, init, skipped = await until_init(sleeper, 1.0)
            assert not skipped
            queued = [await next_message(sleeper) for _ in range(sleeper.pending())]
        return elapsed, init, queued

    elapsed, init, queued = run(scenario, lambda cam, stream: sim.url(cam), limits)
    assert elapsed < 2.4 + 1.0, "the reading viewer got its fragments in real time"
    assert queued and fragment_info(queued[0]).keyframe, "after an overflow the idle viewer resumes at a keyframe"
    assert decoded_frames(init + b"".join(queued)) == len(queued)


def test_a_viewer_joining_late_in_a_gop_longer_than_its_queue_gets_all_of_it(synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})  # a keyframe every 25 frames
    limits = LiveLimits(grace_s=0.5, queue_fragments=10, timeout_s=3.0)

    async def scenario(hub):
        async with hub.subscribe("cam", "main") as first:
            await until_init(first)
            since_keyframe = 0
            while since_keyframe < 20:
                (fragment,) = await fragments(first, 1)
                since_keyframe = 1 if fragment_info(fragment).keyframe else since_keyframe + 1
            async with hub.subscribe("cam", "main") as late:
                _, init, _ = await until_init(late, 1.0)
                burst = [await next_message(late) for _ in range(late.pending())]
                more = await fragments(late, 10)
                return late.dropped, init, burst, more

    dropped, init, burst, more = run(scenario, lambda cam, stream: sim.url(cam), limits)
    assert dropped == 0 and len(burst) >= 20, "the whole GOP so far, although it is longer than the queue"
    assert fragment_info(burst[0]).keyframe
    assert decoded_frames(init + b"".join(burst + more)) == len(burst) + 10


def test_the_reader_stops_after_the_last_viewer_leaves_and_the_grace(synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})

    async def scenario(hub):
        async with hub.subscribe("cam", "main") as viewer:
            await until_init(viewer)
            await fragments(viewer, 5)
        await asyncio.sleep(0.2)  # back within the grace: the same reader, the GOP at once
        assert hub.streams() == [("cam", "main")]
        async with hub.subscribe("cam", "main") as viewer:
            back = time.monotonic()
            await until_init(viewer, 0.5)
            await fragments(viewer, 1)
            rejoin_s = time.monotonic() - back
            assert len(live_threads()) == 1
        left = time.monotonic()
        while hub.streams():
            await asyncio.sleep(0.02)
        return rejoin_s, time.monotonic() - left

    rejoin_s, stopped_after_s = run(scenario, lambda cam, stream: sim.url(cam))
    assert rejoin_s < 0.5
    assert 0.45 <= stopped_after_s < 1.5, "stopped once the grace (0.5 s) was over"
    wait_until(lambda: not live_threads(), 3.0, "the reader thread to end")


def test_a_camera_that_goes_away_and_comes_back_gives_a_new_init(synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})

    async def scenario(hub):
        async with hub.subscribe("cam", "main") as viewer:
            await until_init(viewer)
            await fragments(viewer, 10)
            await asyncio.to_thread(sim.stop)
            errors = []
            while not errors:
                message = await next_message(viewer)
                if isinstance(message, str):
                    errors.append(json.loads(message))
            await asyncio.to_thread(sim.start)
            control, init, _ = await until_init(viewer)
            after = await fragments(viewer, 30)
        return errors[0], control, init, after

    error, control, init, after = run(scenario, lambda cam, stream: sim.url(cam))
    assert error["type"] == "error" and sim.url("cam") in error["message"]
    assert control["type"] == "init" and init[4:8] == b"ftyp"
    assert fragment_info(after[0]).keyframe
    assert decoded_frames(init + b"".join(after)) == 30


def test_an_unknown_camera_is_refused_by_resolve():
    def resolve(camera_id, stream):
        raise NotFound(f"no camera {camera_id}")

    async def scenario(hub):
        with pytest.raises(NotFound):
            async with hub.subscribe("nope", "main"):
                pass
        assert hub.streams() == []

    run(scenario, resolve)


def test_the_reader_makes_each_fragment_one_frame_after_its_packet(synthetic_clip, rtsp_simulator):
    """Measures what the hub cannot add to: open -> first fragment, and packet read -> fragment ready."""
    sim = rtsp_simulator({"cam": synthetic_clip})
    items = []
    spec = LiveSpec(url=sim.url("cam"), display_url=sim.url("cam"), label="measure", timeout_s=3.0)
    reader = LiveReader(spec, items.append)
    started = time.monotonic()
    reader.start()
    try:
        wait_until(lambda: sum(isinstance(i, Fragment) for i in items) >= 50, 10.0, "50 fragments")
    finally:
        reader.stop()
        assert reader.join(5.0)
    assert isinstance(items[0], StreamStarted) and not any(isinstance(i, StreamFailed) for i in items[:51])
    frags = [i for i in items if isinstance(i, Fragment)][:50]
    delays_ms = [(f.ready_at - f.read_at) * 1000 for f in frags]
    first_ms = (frags[0].ready_at - started) * 1000
    print(
        f"\nopen -> first fragment {first_ms:.0f} ms; packet read -> fragment ready: median "
        f"{statistics.median(delays_ms):.1f} ms, max {max(delays_ms):.1f} ms (a frame is 40 ms)"
    )
    assert first_ms < 1000
    assert statistics.median(delays_ms) < 60, "a fragment is ready about one frame after its packet"
