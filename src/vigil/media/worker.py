"""A worker process's life (recorders, analysers): one thread per stream, reports up the worker's own pipe, and
streams started and stopped one by one while it runs, when the main process sends their new list down the
worker's control pipe (a settings change). Started by :class:`vigil.media.supervisor.WorkerSupervisor`."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.domain.reports import StreamStopped
from vigil.media.recorder import StreamRecorder, StreamSpec
from vigil.ports import SystemClock

log = logging.getLogger(__name__)


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
# Commands on the control pipe: ("set", [specs]) runs exactly these streams from now on; ("exit", None) ends.
SET, EXIT = "set", "exit"


@dataclass
class _Running:
    spec: Any
    thread: threading.Thread
    stop: threading.Event


class StreamThreads:
    """One thread per stream, each running ``make(spec)`` until its own stop is set. :meth:`set` stops the
    streams that are gone or changed (waiting up to ``join_s`` for each, then reporting :class:`StreamStopped`)
    and starts the new and changed ones; the others are not touched."""

    def __init__(self, make: Callable[[Any], Loop], send: Callable[[object], None], join_s: float) -> None:
        self._make, self._send, self._join_s = make, send, join_s
        self._running: dict[tuple[str, str], _Running] = {}
        self._lock = threading.Lock()

    def set(self, specs: Sequence[Any], report: bool = True) -> None:
        wanted = {(s.camera_id, s.stream): s for s in specs}
        with self._lock:
            for key, run in list(self._running.items()):
                if wanted.get(key) != run.spec:
                    run.stop.set()
                    run.thread.join(self._join_s)
                    del self._running[key]
                    if report:
                        self._send(StreamStopped(key[0], key[1], SystemClock().now_us()))
                    log.info("camera=%s stream=%s: stopped for a settings change", *key)
            for key, spec in wanted.items():
                if key not in self._running:
                    stop = threading.Event()
                    thread = threading.Thread(target=self._make(spec), args=(stop,), name="-".join(key), daemon=True)
                    self._running[key] = _Running(spec, thread, stop)
                    thread.start()

    def running(self) -> list[tuple[str, str]]:
        return list(self._running)  # one C-level copy under the GIL: no lock (set() may hold it while joining)

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self._running.values())
        for run in runs:
            run.stop.set()
        deadline = time.monotonic() + self._join_s
        for run in runs:
            run.thread.join(max(0.1, deadline - time.monotonic()))


def run_until_stopped(
    loops: Sequence[tuple[str, Loop]],
    log_level: int,
    join_s: float,
    streams: StreamThreads | None = None,
    control: Any = None,
) -> None:
    """A worker process's life: run each ``(thread name, loop(stop))`` (and the ``streams``) until SIGTERM, an
    ``exit`` command, or the parent process is gone, then give them ``join_s`` to finish. Commands come on the
    ``control`` pipe. Nothing is shared with other processes but this worker's own pipes, so killing one worker
    cannot wedge another."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when workers stop
    parent = os.getppid()
    threads = [threading.Thread(target=loop, args=(stop,), name=name, daemon=True) for name, loop in loops]
    if streams is not None and control is not None:
        threads.append(threading.Thread(target=_obey, args=(control, streams, stop), name="control", daemon=True))
    for thread in threads:
        thread.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:
            stop.set()
    if streams is not None:
        streams.stop_all()
    for thread in threads:
        thread.join(timeout=join_s)


def _obey(control: Any, streams: StreamThreads, stop: threading.Event) -> None:
    """Carry out the main process's commands until told to exit or the pipe closes."""
    while not stop.is_set():
        try:
            if not control.poll(0.5):
                continue
            command, argument = control.recv()
        except (EOFError, OSError):
            return  # the main process is gone: the parent check ends this worker
        if command == SET:
            streams.set(argument)
        elif command == EXIT:
            stop.set()


def worker_main(specs: list[StreamSpec], conn: Any, log_level: int, control: Any = None) -> None:
    """Record until SIGTERM, an ``exit`` command, or until the parent process is gone."""
    send, clock = PipeSender(conn), SystemClock()
    recorders: dict[tuple[str, str], StreamRecorder] = {}

    def make(spec: StreamSpec) -> Loop:
        recorder = StreamRecorder(spec, send, clock)
        recorders[(spec.camera_id, spec.stream)] = recorder
        return recorder.run

    streams = StreamThreads(make, send, join_s=15)
    streams.set(specs, report=False)
    loops: list[tuple[str, Loop]] = [("stall-watchdog", lambda stop: watch_stalls(recorders, streams, stop))]
    run_until_stopped(loops, log_level, join_s=15, streams=streams, control=control)


def watch_stalls(
    recorders: dict[tuple[str, str], StreamRecorder],
    streams: StreamThreads,
    stop: threading.Event,
    every_s: float = 1.0,
) -> None:
    """Every ``every_s``, let each running recorder report a connection that stays open without video."""
    while not stop.wait(every_s):
        now = time.monotonic()
        for key in streams.running():
            recorder = recorders.get(key)
            if recorder is not None:
                recorder.check_stall(now)
