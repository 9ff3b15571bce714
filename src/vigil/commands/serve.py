"""``vigil serve``: one recorder node with its web server, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import uvicorn

from vigil.config.models import Config
from vigil.runtime import Vigil
from vigil.storage.config_file import YamlConfigFile

log = logging.getLogger(__name__)


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def serve(
    config: Config,
    base: Path,
    host: str | None = None,
    port: int | None = None,
    banner: str = "",
    config_path: Path | None = None,
) -> None:
    """Record and serve until stopped. With ``config_path``, the console's settings edit that file and edits made
    to it by hand are put in force while running."""
    host = host or config.server.host
    port = config.server.port if port is None else port
    if port == 0:
        port = free_port(host)
    store = YamlConfigFile(config_path) if config_path is not None else None
    node = Vigil(config, base, config_store=store, config_source=str(config_path or ""))
    password = node.first_admin()
    if password is not None:
        print(
            "First run: an administrator account was created.\n"
            f"  user name: admin\n  one-time password: {password}\n"
            "Log in with it and choose your own password (it is shown only this once).",
            flush=True,
        )
    else:
        print("Log in with your Vigil account (an admin can reset a password: vigil users reset-password NAME).")
    node.start()
    try:
        server = uvicorn.Server(uvicorn.Config(node.app(), host=host, port=port, log_level="warning"))
        print(f"Vigil is recording {len(node.specs)} camera(s). Console: http://{host}:{port}/ {banner}", flush=True)
        server.run()
    finally:
        log.info("stopping")
        node.stop()
