"""A recorder worker process: records a group of streams, one thread each, and reports to the main process
through a queue. Started by :class:`vigil.media.supervisor.RecorderSupervisor`."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from vigil.media.recorder import StreamRecorder, StreamSpec
from vigil.ports import SystemClock


class PipeSender:
    """Sends reports up this worker's own pipe. One pipe per worker process, so a worker killed mid-send
    can only damage its own channel, never block the others (a shared queue's lock would stay held)."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._lock = threading.Lock()

    def __call__(self, msg: object) -> None:
        with self._lock:
            self._conn.send(msg)


Loop = Callable[[threading.Event], None]  # runs until the event is set


def run_until_stopped(loops: Sequence[tuple[str, Loop]], log_level: int, join_s: float) -> None:
    """A worker process's life: run each ``(thread name, loop(stop))`` in its own thread until SIGTERM or until
    the parent process is gone, then give them ``join_s`` to finish. Nothing is shared with other processes but
    this worker's own pipe, so killing one worker cannot wedge another."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when workers stop
    parent = os.getppid()
    threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True) for name, loop in loops]
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()
    for thread in threads:
        thread.join(timeout=join_s)


def worker_main(specs: list[StreamSpec], conn: Any, log_level: int) -> None:
    """Record until SIGTERM, or until the parent process is gone."""
    send, clock = PipeSender(conn), SystemClock()
    recorders = [StreamRecorder(s, send, clock) for s in specs]
    loops: list[tuple[str, Loop]] = [(f"rec-{r.spec.camera_id}-{r.spec.stream}", r.run) for r in recorders]
    loops.append(("stall-watchdog", lambda stop: watch_stalls(recorders, stop)))
    run_until_stopped(loops, log_level, join_s=15)


def watch_stalls(recorders: Sequence[StreamRecorder], stop: threading.Event, every_s: float = 1.0) -> None:
    """Every ``every_s``, let each recorder report a connection that stays open without video."""
    while not stop.wait(every_s):
        now = time.monotonic()
        for recorder in recorders:
            recorder.check_stall(now)
