"""A camera whose video stops while its RTSP connection stays open (RTCP still flowing; the read never times
out): the recorder's watchdog reports it offline after the socket timeout, the segment cut short is kept, and
when video comes back a new segment starts and the gap between them is recorded. A real RTSP server behind a
proxy that holds back the RTP video frames (tests/support/stall_proxy.py)."""

from __future__ import annotations

import time

from support.node import node_config, wait_for
from support.stall_proxy import StallProxy
from vigil.runtime import Vigil


def test_video_that_stops_on_an_open_connection_is_an_outage_with_its_gap(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})
    proxy = StallProxy(sim.port)
    config, _ = node_config(tmp_path, {"cam": proxy.url("cam")}, recording={"segment_duration_s": 4})
    node = Vigil(config, tmp_path)
    node.start()
    try:
        wait_for(lambda: len(node.catalog.segments("cam", "main")) >= 1, what="first segment")
        time.sleep(1.5)  # mid-segment
        proxy.stalled.set()
        stalled_at = time.time()
        offline = wait_for(lambda: node.catalog.open_event("camera_offline", "cam"), timeout=20, what="offline")
        noticed_s = time.time() - stalled_at
        assert "although the connection stays open" in offline.description
        cut_short = wait_for(
            lambda: [s for s in node.catalog.segments("cam", "main") if s.end_us >= offline.start_us - 100_000],
            what="the segment the stall cut short",
        )
        time.sleep(4)
        assert proxy.dropped > 0
        proxy.stalled.clear()
        online = wait_for(lambda: node.catalog.events(camera_id="cam", types=["camera_online"]), timeout=30)
        after = wait_for(
            lambda: [s for s in node.catalog.segments("cam", "main") if s.start_us > offline.start_us],
            timeout=30,
            what="a segment after the stall",
        )
    finally:
        node.stop()
        proxy.close()
    assert 3.0 <= noticed_s <= 3.0 + 2.5, "reported within a second or two of the 3 s socket timeout"
    assert cut_short[0].end_us - offline.start_us < 500_000, "the cut-short segment ends where video stopped"
    assert online[0].data["cause"] == "timeout" and online[0].data["downtime_s"] >= 5
    gaps = node.catalog.gaps("cam", "main", offline.start_us - 1, after[0].start_us + 1)
    assert len(gaps) == 1 and gaps[0].start_us == offline.start_us
    assert abs(gaps[0].end_us - after[0].start_us) < 1_000_000, "the gap ends where footage resumes"
