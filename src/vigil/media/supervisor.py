"""Starts worker processes (recorders, analysers), restarts any that die (with back-off), stops them cleanly.

A worker is ``target(specs, conn, log_level, *extra_args)`` run in a spawned process; it sends its reports up
its own pipe ``conn`` and stops on SIGTERM (see :mod:`vigil.media.worker`)."""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any, Protocol

from vigil.domain.reports import Message
from vigil.media.worker import worker_main

log = logging.getLogger(__name__)
_ctx = mp.get_context("spawn")

# Called in the monitor thread when a worker died, before it is restarted: (its streams, exit code).
WorkerExit = Callable[[Sequence[Any], int | None], None]


class StreamJob(Protocol):
    """What a worker is given per stream: at least which camera and stream it is."""

    @property
    def camera_id(self) -> str: ...

    @property
    def stream(self) -> str: ...


@dataclass
class _Worker:
    specs: list[Any]
    process: Any = None
    conn: Any = None  # receiving end of this worker's pipe
    started_at: float = 0.0
    delay_s: float = 1.0
    restart_at: float | None = None
    restarts: int = 0
    names: str = field(default="")


class WorkerSupervisor:
    def __init__(
        self,
        groups: Sequence[Sequence[StreamJob]],
        on_exit: WorkerExit,
        max_delay_s: float = 30.0,
        log_level: int = logging.INFO,
        *,
        target: Callable[..., None] = worker_main,
        extra_args: tuple[Any, ...] = (),
        role: str = "recorder",
    ) -> None:
        self._target, self._extra_args, self._role = target, extra_args, role
        self._conns_lock = threading.Lock()
        self._workers = [_Worker(list(g), names=",".join(f"{s.camera_id}/{s.stream}" for s in g)) for g in groups if g]
        self._on_exit = on_exit
        self._max_delay = max_delay_s
        self._stopping = threading.Event()
        self._log_level = log_level
        self._monitor = threading.Thread(target=self._watch, name=f"{role}-supervisor", daemon=True)

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process is not None and w.process.is_alive()]

    def start(self) -> None:
        for worker in self._workers:
            self._spawn(worker)
        self._monitor.start()

    def receive(self, timeout_s: float) -> list[Message]:
        """Reports that arrived from any worker within ``timeout_s`` (an empty list if none)."""
        with self._conns_lock:
            conns = [w.conn for w in self._workers if w.conn is not None]
        if not conns:
            self._stopping.wait(timeout_s)
            return []
        messages: list[Message] = []
        for ready in wait(conns, timeout_s):
            conn: Any = ready
            try:
                while conn.poll():
                    messages.append(conn.recv())
            except (EOFError, OSError, ValueError) as exc:
                # the worker died (a message cut in half is dropped; the segment file itself is salvaged)
                log.debug("worker pipe closed: %s", exc)
                self._drop_conn(conn)
            except Exception:
                log.exception("unreadable report from a %s worker", self._role)
                self._drop_conn(conn)
        return messages

    def _drop_conn(self, conn: Any) -> None:
        with self._conns_lock:
            for worker in self._workers:
                if worker.conn is conn:
                    worker.conn = None
        conn.close()

    def _spawn(self, worker: _Worker) -> None:
        receiver, sender = _ctx.Pipe(duplex=False)
        worker.process = _ctx.Process(
            target=self._target,
            args=(worker.specs, sender, self._log_level, *self._extra_args),
            name=f"vigil-{self._role}[{worker.names}]",
            daemon=False,
        )
        worker.process.start()
        sender.close()  # only the worker writes; its end closing tells us it died
        with self._conns_lock:
            if worker.conn is not None:
                worker.conn.close()
            worker.conn = receiver
        worker.started_at = time.monotonic()
        worker.restart_at = None
        log.info("%s worker pid=%s started for %s", self._role, worker.process.pid, worker.names)

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for worker in self._workers:
                self._check(worker)

    def _check(self, worker: _Worker) -> None:
        now = time.monotonic()
        if worker.restart_at is not None:
            if now >= worker.restart_at and not self._stopping.is_set():
                worker.restarts += 1
                self._spawn(worker)
            return
        if worker.process.is_alive():
            if now - worker.started_at > 60:
                worker.delay_s = 1.0
            return
        code = worker.process.exitcode
        log.error(
            "%s worker for %s died (exit code %s); restarting in %.0f s",
            self._role,
            worker.names,
            code,
            worker.delay_s,
        )
        try:
            self._on_exit(worker.specs, code)
        except Exception:
            log.exception("handling the exit of the worker for %s failed", worker.names)
        worker.restart_at = now + worker.delay_s
        worker.delay_s = min(worker.delay_s * 2, self._max_delay)

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop the monitor first (so nothing is respawned meanwhile), then SIGTERM every worker, wait, kill."""
        self._stopping.set()
        if self._monitor.is_alive():
            self._monitor.join(5)
        for worker in self._workers:
            if worker.process is not None and worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: the worker closes its segments and exits
        deadline = time.monotonic() + timeout_s
        for worker in self._workers:
            if worker.process is None:
                continue
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("%s worker for %s did not stop; killing it", self._role, worker.names)
                worker.process.kill()
                worker.process.join(5)


RecorderSupervisor = WorkerSupervisor  # the recorder is the default target
