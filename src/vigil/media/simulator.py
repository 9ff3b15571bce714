"""Simulated cameras: starts the GStreamer RTSP server script (``simulator_server.py``) from the venv.

The server runs under Debian's ``/usr/bin/python3``, whose ``gi`` bindings the venv does not have. Its
output goes to a log file (a pipe nobody reads would eventually block it); ``start()`` polls that file
for the ``READY port=N`` line.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self
from urllib.parse import quote

from vigil.media.transcode import ensure_h264

logger = logging.getLogger(__name__)

SERVER_SCRIPT = Path(__file__).with_name("simulator_server.py")
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov"})
_MOUNT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_READY = re.compile(rb"^READY port=(\d+)\r?\n", re.MULTILINE)
_BIND_FAILED = 3  # the server's exit code when it cannot listen
_STOP_GRACE_S = 3.0
_POLL_S = 0.02
_RESTART_PAUSE_S = 0.2  # after a crash, before the server is started again
DELIBERATE = (0, -signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL)  # exit codes of a server asked to end


class RtspSimulator:
    """A set of looping RTSP cameras (one mount per file) served by one server process."""

    def __init__(
        self,
        mounts: Mapping[str, Path],
        host: str = "127.0.0.1",
        port: int = 0,
        username: str | None = None,
        password: str | None = None,
        log_path: Path | None = None,
        python: str = "/usr/bin/python3",
        clocks: Sequence[str] = (),
        *,
        auth_method: str = "basic",
        rtp_timestamp_offset: int | None = None,
        rtp_seqnum_offset: int | None = None,
        session_timeout_s: int | None = None,
        tls_pem: Path | None = None,
    ) -> None:
        """``clocks``: mounts of live cameras whose picture carries the time it was made (see
        ``simulator_server.py``; ``vigil.media.clock_code`` reads it back)."""
        if not mounts and not clocks:
            raise ValueError("at least one mount is needed")
        if set(mounts) & set(clocks):
            raise ValueError("a mount is given twice")
        for name in [*mounts, *clocks]:
            if not _MOUNT_NAME.match(name):
                raise ValueError(f"mount name must match [A-Za-z0-9_.-]+: {name!r}")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self._mounts = {name: Path(path) for name, path in mounts.items()}
        self._clocks = list(clocks)
        self._host = host
        self._port = port
        self._auto_port = port == 0
        self._username = username
        self._password = password
        self._log_path = log_path
        self._python = python
        self._auth_method = auth_method
        self._rtp_options: list[str] = []
        if rtp_timestamp_offset is not None:
            self._rtp_options += ["--rtp-timestamp-offset", str(rtp_timestamp_offset)]
        if rtp_seqnum_offset is not None:
            self._rtp_options += ["--rtp-seqnum-offset", str(rtp_seqnum_offset)]
        if session_timeout_s is not None:
            self._rtp_options += ["--session-timeout", str(session_timeout_s)]
        self._scheme = "rtsp"
        if tls_pem is not None:  # served as rtsps:// (TLS from the first byte)
            self._rtp_options += ["--tls-pem", str(tls_pem)]
            self._scheme = "rtsps"
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False
        self._lock = threading.RLock()  # start, stop and the crash watcher take turns
        self.crashes = 0  # server processes that died without being stopped (and were started again)

    @property
    def port(self) -> int:
        """The TCP port (0 until the first ``start()`` when it was left to pick)."""
        return self._port

    @property
    def host(self) -> str:
        return self._host

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    @property
    def log_path(self) -> Path | None:
        """The server's log file (set by ``start()`` when none was given)."""
        return self._log_path

    def url(self, name: str, *, with_credentials: bool = False) -> str:
        """``rtsp://host:port/name``; with the credentials in it when asked and configured."""
        if name not in self._mounts and name not in self._clocks:
            raise KeyError(f"no mount named {name!r}")
        if self._port == 0:
            raise RuntimeError("the port is not known before start()")
        userinfo = ""
        if with_credentials and self._username is not None and self._password is not None:
            userinfo = f"{quote(self._username, safe='')}:{quote(self._password, safe='')}@"
        return f"{self._scheme}://{userinfo}{self._host}:{self._port}/{name}"

    @property
    def urls(self) -> dict[str, str]:
        return {name: self.url(name) for name in [*self._mounts, *self._clocks]}

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it listens. A no-op when it is already running. A server that dies
        while running (GStreamer's RTSP server can abort on a client's request) is started again on the same
        port, as a camera comes back after a reboot, until ``stop()``."""
        with self._lock:
            self._start(timeout_s)
            process = self._process
        if process is not None:
            threading.Thread(target=self._watch, args=(process,), name="rtsp-simulator-watch", daemon=True).start()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        while True:
            code = process.wait()
            with self._lock:
                if self._process is not process:  # stopped, or started again by someone else
                    return
                if code in DELIBERATE:  # asked to end (Ctrl-C reaches the whole process group, a kill): no crash
                    logger.info("RTSP simulator %s ended (exit code %s); not started again", process.pid, code)
                    self._process = None
                    return
                self.crashes += 1
                logger.warning(
                    "RTSP simulator %s died (exit code %s); starting it again on port %s; log tail:\n%s",
                    process.pid,
                    code,
                    self._port,
                    self._log_tail(3),
                )
                self._process = None
                time.sleep(_RESTART_PAUSE_S)
                try:
                    self._start(10.0)
                except RuntimeError:
                    logger.exception("the RTSP simulator could not be started again")
                    return
                if self._process is None:
                    return
                process = self._process

    def _start(self, timeout_s: float) -> None:
        if self.running:
            return
        for name, path in self._mounts.items():
            if not path.is_file():
                raise FileNotFoundError(f"mount {name!r}: no such video file: {path}")
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix="vigil-rtsp-simulator-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        # A port picked here may be taken by someone else before the server binds it: pick again, but
        # only before the first success (a restart must come back on the same port).
        attempts = 3 if self._auto_port and not self._started_once else 1
        for attempt in range(attempts):
            if self._port == 0 or attempt > 0:
                self._port = free_tcp_port(self._host)
            exit_code = self._launch(timeout_s)
            if exit_code is None:
                self._started_once = True
                return
            if exit_code != _BIND_FAILED or attempt == attempts - 1:
                raise RuntimeError(
                    f"RTSP simulator exited with code {exit_code} before it was ready; log {self._log_path}:\n"
                    + self._log_tail()
                )
            logger.info("port %s was taken, trying another one", self._port)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s; waits for the process. A no-op when it is not running."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(_STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    logger.warning("RTSP simulator %s ignored SIGTERM: killing it", process.pid)
                    process.kill()
                    process.wait()
            logger.debug("RTSP simulator %s stopped (exit code %s)", process.pid, process.returncode)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _command(self) -> list[str]:
        command = [self._python, str(SERVER_SCRIPT), "--host", self._host, "--port", str(self._port)]
        for name, path in self._mounts.items():
            command += ["--mount", f"{name}={path.resolve()}"]
        for name in self._clocks:
            command += ["--clock", name]
        if self._username is not None and self._password is not None:
            command += ["--username", self._username, "--password", self._password]
            command += ["--auth-method", self._auth_method]
        return [*command, *self._rtp_options, "--exit-with-parent"]

    def _launch(self, timeout_s: float) -> int | None:
        """Run the server; None once it is ready, else its exit code. Raises on a timeout."""
        assert self._log_path is not None
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            offset = log.tell()
            started = time.monotonic()
            self._process = subprocess.Popen(
                self._command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self._ready_port(offset) is not None:
                logger.info(
                    "RTSP simulator %s ready on %s:%s in %.2f s",
                    self._process.pid,
                    self._host,
                    self._port,
                    time.monotonic() - started,
                )
                return None
            code = self._process.poll()
            if code is not None:
                self.stop()
                return code
            time.sleep(_POLL_S)
        self.stop()
        raise RuntimeError(f"RTSP simulator not ready after {timeout_s} s; log {self._log_path}:\n" + self._log_tail())

    def _ready_port(self, offset: int) -> int | None:
        assert self._log_path is not None
        with self._log_path.open("rb") as log:
            log.seek(offset)
            match = _READY.search(log.read())
        return int(match.group(1)) if match else None

    def _log_tail(self, lines: int = 30) -> str:
        if self._log_path is None or not self._log_path.is_file():
            return "(no log)"
        text = self._log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def mount_name(path: Path) -> str:
    """A mount name from a file name: lower-cased stem, anything but [a-z0-9_-] replaced by '-'."""
    return re.sub(r"[^a-z0-9_-]", "-", path.stem.lower()) or "clip"


def find_clips(media_dir: Path) -> dict[str, Path]:
    """Every video clip under ``media_dir`` (recursively), by unique mount name."""
    clips: dict[str, Path] = {}
    for path in sorted(media_dir.rglob("*")):
        if path.suffix.lower() not in VIDEO_SUFFIXES or not path.is_file():
            continue
        base = name = mount_name(path)
        count = 1
        while name in clips:
            count += 1
            name = f"{base}-{count}"
        clips[name] = path
    return clips


def run_simulator(media_dir: Path, port: int, cache_dir: Path, host: str = "127.0.0.1") -> None:
    """Serve every clip in ``media_dir`` as a looping RTSP camera until Ctrl-C or SIGTERM."""
    clips = find_clips(media_dir)
    if not clips:
        raise FileNotFoundError(f"no video clips ({', '.join(sorted(VIDEO_SUFFIXES))}) under {media_dir}")
    mounts: dict[str, Path] = {}
    for name, path in clips.items():
        try:
            mounts[name] = ensure_h264(path, cache_dir)
        except (OSError, ValueError) as error:  # av's errors derive from these
            logger.warning("skipping %s: %s", path, error)
    if not mounts:
        raise RuntimeError(f"none of the clips under {media_dir} could be prepared")
    stop = threading.Event()
    restore = _on_sigterm(stop)
    simulator = RtspSimulator(mounts, host=host, port=port, log_path=cache_dir / "simulator.log")
    try:
        simulator.start()
        for name, url in simulator.urls.items():
            print(f"{url}  <- {clips[name]}", flush=True)
        print(f"Serving {len(mounts)} camera(s); log {simulator.log_path}. Ctrl-C to stop.", flush=True)
        while simulator.running and not stop.wait(0.5):
            pass
        if not stop.is_set():
            raise RuntimeError(f"the RTSP simulator died; see {simulator.log_path}")
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        restore()


def _on_sigterm(event: threading.Event) -> Callable[[], object]:
    """Set ``event`` on SIGTERM (main thread only); returns a function restoring the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: FrameType | None) -> None:
        event.set()

    signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)
