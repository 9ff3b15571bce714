"""A recorder worker process: records a group of streams, one thread each, and reports to the main process
through a queue. Started by :class:`vigil.media.supervisor.RecorderSupervisor`."""

from __future__ import annotations

import logging
import os
import signal
import threading
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


def worker_main(specs: list[StreamSpec], conn: Any, log_level: int) -> None:
    """Record until SIGTERM, or until the parent process is gone. Nothing is shared with other processes but
    this worker's own pipe, so killing one worker cannot wedge another."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when workers stop
    parent = os.getppid()
    clock = SystemClock()
    send = PipeSender(conn)
    threads = [
        threading.Thread(
            target=StreamRecorder(spec, send, clock).run,
            args=(stop,),
            name=f"rec-{spec.camera_id}-{spec.stream}",
            daemon=True,
        )
        for spec in specs
    ]
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()
    for thread in threads:
        thread.join(timeout=15)
