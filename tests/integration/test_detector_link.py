"""The detector process and its clients: real spawned processes, the bundled model, a real PETS frame through
POSIX shared memory; a killed detector is reconnected to once it is back, and nothing is left in /dev/shm."""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import secrets
import time
from pathlib import Path

import av
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.media.detector_link import DetectorClient
from vigil.media.detector_process import DetectorJob, detector_main
from vigil.media.shared_picture import SHM_DIR, SharedPicture
from vigil.wiring import detect_fn_for

pytestmark = [requires_shared_data, pytest.mark.shared_data]
PETS = SHARED_DATA / "pets09-s2l1" / "vtest.avi"


def pets_frame(index: int = 100) -> np.ndarray:
    with av.open(str(PETS)) as container:
        for k, frame in enumerate(container.decode(video=0)):
            if k == index:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError("PETS is shorter than expected")


def start_detector(job: DetectorJob):
    ctx = mp.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=detector_main, args=([job], sender, logging.INFO, detect_fn_for))
    process.start()
    sender.close()
    assert receiver.poll(60), "the detector never said it was up"
    return process, receiver.recv()


def reply_of(client: DetectorClient, picture: np.ndarray, crop, at_us: int, wait_s: float = 30.0):
    deadline = time.monotonic() + wait_s
    while not client.submit(picture, crop, at_us):
        assert time.monotonic() < deadline, "the detector could not be reached"
        time.sleep(0.05)
    while time.monotonic() < deadline:
        reply = client.poll()
        if reply is not None:
            return reply
        time.sleep(0.01)
    raise AssertionError("no reply")


def leftovers() -> list[Path]:
    return sorted(SHM_DIR.glob(f"vigil-{os.getpid()}-*"))


@pytest.fixture
def job() -> DetectorJob:
    return DetectorJob(
        address=f"\0vigil-test-{secrets.token_hex(6)}",
        authkey=secrets.token_bytes(16),
        labels=("person", "car"),
    )


def test_people_are_found_through_shared_memory_and_boxes_come_back_in_picture_pixels(job):
    process, up = start_detector(job)
    client = DetectorClient(job.address, job.authkey, "pets")
    try:
        picture = pets_frame()
        height, width = picture.shape[:2]
        whole = reply_of(client, picture, (0, 0, width, height), 111)
        assert whole.at_us == 111 and up.at_us > 0
        people = [f for f in whole.found if f[0] == "person"]
        assert len(people) >= 3, whole.found
        assert leftovers() == [], "the buffer's name must be removed once the detector has mapped it"
        # The reply's picture is the one sent (read back from the shared buffer, not a copy made by the detector).
        assert np.array_equal(whole.picture, picture)

        # A crop around one person: the boxes come back in the whole picture's pixels, around the same person.
        _label, _, x1, y1, x2, y2 = max(people, key=lambda f: f[1])
        crop = (max(0, int(x1) - 120), max(0, int(y1) - 120), min(width, int(x2) + 120), min(height, int(y2) + 120))
        part = reply_of(client, picture, crop, 222)
        centres = [((f[2] + f[4]) / 2, (f[3] + f[5]) / 2) for f in part.found if f[0] == "person"]
        assert any(abs(cx - (x1 + x2) / 2) < 15 and abs(cy - (y1 + y2) / 2) < 15 for cx, cy in centres), part.found
        assert all(crop[0] - 1 <= f[2] and f[4] <= crop[2] + 1 for f in part.found)
    finally:
        client.close()
        process.terminate()
        process.join(10)


def test_a_second_request_waits_for_the_first_reply(job):
    process, _ = start_detector(job)
    client = DetectorClient(job.address, job.authkey, "pets")
    try:
        picture = pets_frame()
        assert reply_of(client, picture, (0, 0, 768, 576), 1) is not None
        assert client.submit(picture, (0, 0, 768, 576), 2)
        assert client.busy
        assert not client.submit(picture, (0, 0, 768, 576), 3), "only one request may be out per camera"
    finally:
        client.close()
        process.terminate()
        process.join(10)


def test_a_killed_detector_is_reconnected_to_when_it_is_back(job):
    process, _ = start_detector(job)
    client = DetectorClient(job.address, job.authkey, "pets", retry_s=0.2)
    picture = pets_frame()
    try:
        assert reply_of(client, picture, (0, 0, 768, 576), 1).found
        process.kill()
        process.join(10)
        # The loss is noticed on the next exchange; meanwhile frames go without detection (no exception).
        deadline = time.monotonic() + 10
        while client.connected and time.monotonic() < deadline:
            client.submit(picture, (0, 0, 768, 576), 2)
            client.poll()
            time.sleep(0.05)
        assert not client.connected and client.lost == 1
        assert not client.submit(picture, (0, 0, 768, 576), 3)

        process, _ = start_detector(job)
        assert reply_of(client, picture, (0, 0, 768, 576), 4).found
        assert leftovers() == []
    finally:
        client.close()
        process.terminate()
        process.join(10)


def test_a_client_with_the_wrong_key_is_refused_and_the_detector_serves_on(job):
    process, _ = start_detector(job)
    stranger = DetectorClient(job.address, b"not the key", "intruder", retry_s=0.1)
    client = DetectorClient(job.address, job.authkey, "pets")
    try:
        picture = pets_frame()
        assert not stranger.submit(picture, (0, 0, 768, 576), 1)
        assert not stranger.connected
        assert reply_of(client, picture, (0, 0, 768, 576), 2).found
    finally:
        stranger.close()
        client.close()
        process.terminate()
        process.join(10)


def test_a_bigger_picture_gets_a_bigger_buffer(job):
    process, _ = start_detector(job)
    client = DetectorClient(job.address, job.authkey, "pets", retry_s=0.0)
    try:
        picture = pets_frame()
        small = np.ascontiguousarray(picture[::2, ::2])
        assert reply_of(client, small, (0, 0, small.shape[1], small.shape[0]), 1) is not None
        big = reply_of(client, picture, (0, 0, 768, 576), 2)  # a resolution change mid-stream
        assert big.picture.shape == picture.shape and big.found
        assert leftovers() == []
    finally:
        client.close()
        process.terminate()
        process.join(10)


def test_a_picture_buffer_is_refused_outside_shared_memory_names():
    with pytest.raises(ValueError, match="not a Vigil picture buffer"):
        SharedPicture.attach("../etc/passwd", 10)
