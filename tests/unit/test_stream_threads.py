"""One thread per stream in a worker, changed one by one (vigil.media.worker.StreamThreads)."""

import threading
from dataclasses import dataclass

from vigil.domain.reports import StreamStopped
from vigil.media.worker import StreamThreads


@dataclass(frozen=True)
class Spec:
    camera_id: str
    stream: str
    url: str


def test_only_the_streams_that_changed_are_stopped_and_started():
    started, sent = [], []
    finished = []

    def make(spec):
        def loop(stop: threading.Event) -> None:
            started.append(spec)
            stop.wait()
            finished.append(spec)

        return loop

    threads = StreamThreads(make, sent.append, join_s=5)
    a, b, c = Spec("a", "main", "u1"), Spec("b", "main", "u1"), Spec("c", "main", "u1")
    threads.set([a, b], report=False)
    b2 = Spec("b", "main", "u2")
    threads.set([a, b2, c])
    assert sorted(threads.running()) == [("a", "main"), ("b", "main"), ("c", "main")]
    assert finished == [b]  # a went on; b was stopped before its new spec started
    assert [(m.camera_id, m.stream) for m in sent] == [("b", "main")] and isinstance(sent[0], StreamStopped)
    threads.set([c])
    assert sorted(s.camera_id for s in finished) == ["a", "b", "b"]
    assert [m.camera_id for m in sent] == ["b", "a", "b"]
    threads.stop_all()
    assert len(finished) == 4 and started.count(a) == 1
