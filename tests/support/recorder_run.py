"""A StreamRecorder run in a thread for tests, collecting what it reports."""

from __future__ import annotations

import threading

import av

from vigil.media.recorder import StreamRecorder, StreamSpec
from vigil.ports import SystemClock


class Run:
    """A StreamRecorder in a thread, collecting what it reports."""

    def __init__(self, tmp_path, url, display=None, **kw):
        self.messages = []
        spec = StreamSpec(
            "cam",
            "main",
            url,
            display or url,
            tmp_path / "rec",
            reconnect_initial_s=0.3,
            reconnect_max_s=1.0,
            timeout_s=3.0,
            health_interval_s=0.5,
            **kw,
        )
        self.recorder = StreamRecorder(spec, self.messages.append, SystemClock())
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.recorder.run, args=(self.stop,), daemon=True)
        self.root = tmp_path / "rec"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive()

    def of(self, kind):
        return [m for m in list(self.messages) if isinstance(m, kind)]


def packets(path):
    with av.open(str(path)) as c:
        return [p for p in c.demux(c.streams.video[0]) if p.size]
