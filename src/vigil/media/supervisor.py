"""Starts worker processes (recorders, analysers), restarts any that die (with back-off), stops them cleanly,
and changes their streams while running (:meth:`WorkerSupervisor.update`, when the settings change).

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
    control: Any = None  # sending end of this worker's control pipe (None: the target takes no commands)
    retiring: bool = False  # told to exit (no stream left): dropped, not restarted, once it has


def _key(spec: Any) -> tuple[str, str]:
    return (spec.camera_id, spec.stream)


def _names(specs: Sequence[Any]) -> str:
    return ",".join(f"{s.camera_id}/{s.stream}" for s in specs)


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
        controllable: bool = True,
    ) -> None:
        """``controllable``: the target takes a ``control`` pipe (keyword) and obeys ``set``/``exit`` commands
        (:func:`vigil.media.worker.run_until_stopped`), so :meth:`update` changes streams without restarts."""
        self._target, self._extra_args, self._role = target, extra_args, role
        self._controllable = controllable
        self._update_lock = threading.Lock()
        self._conns_lock = threading.Lock()
        self._workers = [_Worker(list(g), names=_names(g)) for g in groups if g]
        self._on_exit = on_exit
        self._started = False
        self._max_delay = max_delay_s
        self._stopping = threading.Event()
        self._log_level = log_level
        self._monitor = threading.Thread(target=self._watch, name=f"{role}-supervisor", daemon=True)

    @property
    def pids(self) -> list[int]:
        with self._conns_lock:
            workers = list(self._workers)
        return [w.process.pid for w in workers if w.process is not None and w.process.is_alive()]

    def start(self) -> None:
        self._started = True
        for worker in list(self._workers):
            self._spawn(worker)
        self._monitor.start()

    def update(self, jobs: Sequence[StreamJob], per_worker: int) -> list[Any]:
        """Run ``jobs`` from now on, disturbing nothing else: a worker whose streams are all unchanged is not
        touched; a worker with streams changed or gone is told its new list down its control pipe, and stops and
        starts just those streams (each stopped one is reported as ``StreamStopped`` after its last segment);
        a worker left with none exits; new streams get new workers of up to ``per_worker``. A worker that is down
        meanwhile comes back with its new list. Returns the jobs that were stopped or restarted."""
        wanted = {_key(j): j for j in jobs}
        stopped: list[Any] = []
        with self._update_lock:
            with self._conns_lock:
                placed: set[tuple[str, str]] = set()
                told: list[_Worker] = []
                for worker in self._workers:
                    kept = [wanted[_key(s)] for s in worker.specs if _key(s) in wanted]
                    placed.update(_key(s) for s in kept)
                    if kept != worker.specs:
                        stopped += [s for s in worker.specs if wanted.get(_key(s)) != s]
                        worker.specs, worker.names = kept, _names(kept)
                        worker.retiring = not kept
                        told.append(worker)
                added = [j for k, j in wanted.items() if k not in placed]
                chunks = [added[i : i + per_worker] for i in range(0, len(added), per_worker)]
                fresh = [_Worker(chunk, names=_names(chunk)) for chunk in chunks]
                self._workers.extend(fresh)
                if not self._started:  # nothing runs yet: start() will start what is listed now
                    self._workers = [w for w in self._workers if w.specs]
                    return stopped
            for worker in told:
                self._tell(worker)
            for worker in fresh:
                self._spawn(worker)
        return stopped

    def _tell(self, worker: _Worker) -> None:
        """Send a worker its new streams (or tell it to exit). A worker that cannot be told (it died, or its target
        takes no commands) is stopped; the monitor restarts it with its new streams, or drops it."""
        alive = worker.process is not None and worker.process.is_alive()
        if not alive:
            return  # the monitor restarts it with worker.specs (or drops it when retiring)
        log.info("%s worker pid=%s: now %s", self._role, worker.process.pid, worker.names or "nothing (exits)")
        try:
            if worker.control is None:
                raise OSError("this worker takes no commands")
            worker.control.send(("set", list(worker.specs)))
            if worker.retiring:
                worker.control.send(("exit", None))
        except (OSError, ValueError) as exc:
            log.warning("%s worker pid=%s: restarting it for the change (%s)", self._role, worker.process.pid, exc)
            worker.process.terminate()

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
        commands, control = _ctx.Pipe(duplex=False) if self._controllable else (None, None)
        worker.process = _ctx.Process(
            target=self._target,
            args=(list(worker.specs), sender, self._log_level, *self._extra_args),
            kwargs={"control": commands} if commands is not None else {},
            name=f"vigil-{self._role}[{worker.names}]",
            daemon=False,
        )
        worker.process.start()
        sender.close()  # only the worker writes; its end closing tells us it died
        if commands is not None:
            commands.close()
        if worker.control is not None:
            worker.control.close()
        worker.control = control
        with self._conns_lock:
            if worker.conn is not None:
                worker.conn.close()
            worker.conn = receiver
        worker.started_at = time.monotonic()
        worker.restart_at = None
        log.info("%s worker pid=%s started for %s", self._role, worker.process.pid, worker.names)

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            with self._conns_lock:
                workers = list(self._workers)
            for worker in workers:
                self._check(worker)

    def _check(self, worker: _Worker) -> None:
        now = time.monotonic()
        if worker.process is None:
            return
        if worker.retiring and not worker.process.is_alive():
            with self._conns_lock:
                self._workers.remove(worker)
            log.info("%s worker pid=%s exited: no stream left in it", self._role, worker.process.pid)
            return
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
        with self._conns_lock:
            workers = list(self._workers)
        for worker in workers:
            if worker.process is not None and worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: the worker closes its segments and exits
        deadline = time.monotonic() + timeout_s
        for worker in workers:
            if worker.process is None:
                continue
            worker.process.join(max(0.1, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("%s worker for %s did not stop; killing it", self._role, worker.names)
                worker.process.kill()
                worker.process.join(5)


RecorderSupervisor = WorkerSupervisor  # the recorder is the default target
