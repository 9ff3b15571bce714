"""E-mail through SMTP (the standard library's ``smtplib``, run in a worker thread): STARTTLS on a plain
connection (``starttls``, port 587), TLS from the first byte (``tls``, port 465) or, for a relay on the same host
only, no encryption (``none``). The server's certificate is verified (against ``ca_file`` when given). The message
is the stored one, byte for byte; one connection per message.

A reply of the 5xx family to the message or its recipients fails the notification for good, except a refused
login (530, 534, 535: a configuration to fix, retried until the notification expires); 4xx replies, refused
connections, TLS failures and timeouts are retried.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence

from vigil.domain.notifications import DeliveryResult, Notification, Outcome

LOGIN_REFUSED = frozenset({530, 534, 535})


class SmtpSender:
    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        to: Sequence[str],
        timeout_s: float,
        tls: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.sender, self.to = sender, list(to)
        self.timeout_s = timeout_s
        self.tls = tls or ssl.create_default_context()
        self.username, self.password = username, password

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, n: Notification) -> DeliveryResult:
        assert n.payload is not None
        return await asyncio.to_thread(self._send, n.payload)

    def _send(self, message: bytes) -> DeliveryResult:
        try:
            with self._connect() as smtp:
                if self.security == "starttls":
                    smtp.starttls(context=self.tls)
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                refused = smtp.sendmail(self.sender, self.to, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            permanent = all(500 <= code < 600 for code in codes)
            return DeliveryResult(
                Outcome.FAILED if permanent else Outcome.RETRY,
                max(codes, default=None),
                f"every recipient was refused: {_replies(exc.recipients)}",
            )
        except smtplib.SMTPResponseException as exc:
            code = int(exc.smtp_code)
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            permanent = 500 <= code < 600 and code not in LOGIN_REFUSED
            what = "the login was refused" if code in LOGIN_REFUSED else "the server refused it"
            return DeliveryResult(Outcome.FAILED if permanent else Outcome.RETRY, code, f"{what}: {code} {text}")
        except ssl.SSLError as exc:
            return DeliveryResult(Outcome.RETRY, error=f"TLS with the server failed: {exc}")
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult(Outcome.RETRY, error=f"could not talk to the server: {type(exc).__name__}: {exc}")
        if refused:
            return DeliveryResult(Outcome.DELIVERED, 250, f"some recipients were refused: {_replies(refused)}")
        return DeliveryResult(Outcome.DELIVERED, 250)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=self.tls)
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)


def _replies(replies: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{who}: {code} {text.decode(errors='replace')}" for who, (code, text) in replies.items())
