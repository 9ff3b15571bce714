"""Real receivers for the notification tests, all on 127.0.0.1 and a free port: an HTTP server that records
webhooks (and can answer 500, hang, redirect or refuse), Debian's mosquitto started for the test, an MQTT
subscriber (paho), and an SMTP server (aiosmtpd) with STARTTLS or implicit TLS on a certificate made here."""

from __future__ import annotations

import datetime
import getpass
import ipaddress
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from vigil.commands.serve import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


# --- webhooks ------------------------------------------------------------------------------------------------
@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def doc(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every POST; ``answer(doc) -> str`` picks what to do with each: ``ok`` (204), ``error`` (500),
    ``hang`` (no answer until released or 30 s), ``redirect`` (307), ``gone`` (410), ``slow`` (0.3 s, then 204).
    Only answered ``ok``/``slow`` requests count as received; every request is in ``requests``."""

    port: int = field(default_factory=lambda: free_port("127.0.0.1"))
    answer: Callable[[dict[str, Any]], str] = lambda _doc: "ok"
    received: list[Received] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> WebhookReceiver:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                got = Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                with owner._lock:
                    owner.requests.append(got)
                mode = owner.answer(got.doc)
                if mode == "hang":
                    owner.release.wait(30)
                    return
                if mode == "slow":
                    time.sleep(0.3)
                if mode in ("ok", "slow"):
                    with owner._lock:
                        owner.received.append(got)
                status = {"ok": 204, "slow": 204, "error": 500, "redirect": 307, "gone": 410}[mode]
                self.send_response(status)
                if mode == "redirect":
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def docs(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.doc for r in self.received]


# --- MQTT ------------------------------------------------------------------------------------------------------
class Mosquitto:
    """Debian's mosquitto on 127.0.0.1 and a free port; stop and start it again on the same port. With
    ``persistence``, sessions and their queued messages survive a restart (saved when it stops)."""

    def __init__(
        self,
        folder: Path,
        persistence: bool = False,
        tls: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.port = free_port("127.0.0.1")
        self.persistence = persistence
        self.tls = tls  # (certificate, key): a TLS listener
        self.users = users  # name -> password: no anonymous clients
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        conf = self.folder / "mosquitto.conf"
        keep = f"persistence true\npersistence_location {self.folder}/\n" if self.persistence else "persistence false\n"
        tls = f"certfile {self.tls[0]}\nkeyfile {self.tls[1]}\n" if self.tls else ""
        access = "allow_anonymous true\n"
        if self.users:
            passwords = self.folder / "mosquitto.passwd"
            passwords.write_text("".join(f"{name}:{pw}\n" for name, pw in self.users.items()))
            passwords.chmod(0o600)
            subprocess.run([MOSQUITTO_PASSWD, "-U", str(passwords)], check=True)  # hashes the passwords in place
            access = f"allow_anonymous false\npassword_file {passwords}\n"
        me = f"user {getpass.getuser()}\n"  # run as root, mosquitto would become user mosquitto: stay ourselves
        conf.write_text(f"{me}listener {self.port} 127.0.0.1\n{tls}{access}{keep}")
        log = (self.folder / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class MqttWatcher:
    """A paho subscriber (QoS 1) that records (topic, payload, retained) in arrival order. ``durable``: a session
    the broker keeps while the watcher is away (it reconnects by itself), so nothing published meanwhile is missed."""

    def __init__(self, port: int, topic: str = "#", durable: bool = False) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        name = f"watcher-{port}" if durable else f"watcher-{port}-{time.time_ns()}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, clean_session=not durable)
        self.client.reconnect_delay_set(0.2, 1)

        def on_message(_c: Any, _u: Any, msg: Any) -> None:
            with self._lock:
                self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

        def on_connect(client: Any, _u: Any, _f: Any, _rc: Any, _p: Any = None) -> None:
            client.subscribe(topic, qos=1)

        self.client.on_message = on_message
        self.client.on_connect = on_connect
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _r in self.messages if t == topic]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


# --- SMTP ------------------------------------------------------------------------------------------------------
def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key (PEM files), made with ``cryptography``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: ``mode`` ``starttls`` (STARTTLS required) or ``tls`` (implicit TLS). Messages are
    kept as (envelope sender, recipients, raw bytes); ``refuse`` makes it answer DATA with 550."""

    def __init__(self, folder: Path, mode: str) -> None:
        import ssl

        from aiosmtpd.controller import Controller

        self.cert, key = self_signed(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = False
        owner = self

        class Handler:
            async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
                if owner.refuse:
                    return "550 mailbox unavailable"
                owner.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
                return "250 OK"

        self.port = free_port("127.0.0.1")
        if mode == "tls":
            self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ssl_context=context)
        else:
            self.controller = Controller(
                Handler(), hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True
            )

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
