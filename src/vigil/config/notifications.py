"""``notifications`` in ``vigil.yaml``: named channels (webhook, MQTT, e-mail) and routes (which events go to
which channel). Secrets are named by environment variable, never written in the file; they are read when the
node starts (:func:`secret_from_env`), so validation stays pure."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil.domain.errors import ConfigError
from vigil.domain.notifications import KNOWN_EVENT_TYPES

_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|^[^@\s<>]+@(localhost|\d+\.\d+\.\d+\.\d+)$")
_TOPIC = re.compile(r"^[^#+/\s][^#+\s]*[^#+/\s]$|^[^#+/\s]$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelBase(Strict):
    name: str = Field(
        pattern=_ID, description="The channel's name, used by routes: lower-case letters, digits, - and _."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="Longest wait for the receiver in one attempt.")
    retry_initial_s: float = Field(
        default=1.0, gt=0, description="Wait after the first failed attempt (doubles each time)."
    )
    retry_max_s: float = Field(default=300.0, gt=0, description="Longest wait between attempts.")
    expire_after_s: float = Field(
        default=86400.0, gt=0, description="A notification not delivered this long after it was made expires."
    )
    max_parallel: int = Field(
        default=8, ge=1, le=256, description="Cameras delivered to at once (each camera's notifications go in order)."
    )

    @model_validator(mode="after")
    def _retry(self) -> ChannelBase:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError("retry_max_s must not be shorter than retry_initial_s")
        return self


class WebhookChannel(ChannelBase):
    kind: Literal["webhook"] = Field(description="An HTTP(S) POST of a JSON document, signed (Standard Webhooks).")
    url: str = Field(description="http:// or https:// address the JSON is POSTed to (redirects are not followed).")
    secret_env: str = Field(
        pattern=_ENV,
        description="Environment variable holding the signing secret (whsec_ followed by base64, or any text).",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"must start with http:// or https:// (got {value.split(':')[0]!r})")
        if not parts.hostname:
            raise ValueError("has no host")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold a user name or password (the signature proves who sent it)")
        try:
            parts.port  # noqa: B018 (raises on a bad port)
        except ValueError as exc:
            raise ValueError(f"has a bad port: {exc}") from None
        return value


class MqttChannel(ChannelBase):
    kind: Literal["mqtt"] = Field(description="Messages published to an MQTT broker (QoS 1).")
    host: str = Field(min_length=1, description="The broker's host name or address.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="The broker's port (default 1883; 8883 with TLS)."
    )
    username: str | None = Field(default=None, description="User name at the broker.")
    password_env: str | None = Field(
        default=None, pattern=_ENV, description="Environment variable holding the password."
    )
    tls: bool = Field(default=False, description="Connect with TLS (the broker's certificate is verified).")
    ca_file: str | None = Field(default=None, description="CA certificate file for the broker's certificate (PEM).")
    client_id: str | None = Field(
        default=None, max_length=64, description="MQTT client id (default: vigil-<channel name>); unique per broker."
    )
    topic_prefix: str = Field(
        default="vigil", description="First level of every topic (vigil/events, vigil/<camera>/...)."
    )
    keepalive_s: int = Field(
        default=30, ge=5, le=3600, description="Keep-alive; the broker announces us offline after 1.5 times this."
    )
    camera_status: bool = Field(
        default=True, description="Publish each camera's online/offline state, retained, on <prefix>/<camera>/status."
    )

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not _TOPIC.match(value):
            raise ValueError("must be a topic without wildcards (+, #), spaces, or a leading or trailing /")
        return value

    def effective_port(self) -> int:
        return self.port if self.port is not None else (8883 if self.tls else 1883)


class EmailChannel(ChannelBase):
    kind: Literal["email"] = Field(description="E-mail through an SMTP server, with the event's snapshot attached.")
    host: str = Field(min_length=1, description="The SMTP server's host name or address.")
    port: int | None = Field(
        default=None, ge=1, le=65535, description="SMTP port (default 587 with starttls, 465 with tls, 25 with none)."
    )
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls: plain connection upgraded with STARTTLS; tls: TLS from the start; none: no encryption.",
    )
    ca_file: str | None = Field(default=None, description="CA certificate file for the server's certificate (PEM).")
    username: str | None = Field(default=None, description="User name at the SMTP server (no login when absent).")
    password_env: str | None = Field(
        default=None, pattern=_ENV, description="Environment variable holding the password."
    )
    sender: str = Field(description="The From address (e.g. vigil@example.com).")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    attach_snapshot: bool = Field(default=True, description="Attach the event's snapshot (JPEG) when it has one.")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    @model_validator(mode="after")
    def _login(self) -> EmailChannel:
        if self.password_env is not None and self.username is None:
            raise ValueError("password_env needs a username")
        if self.username is not None and self.security == "none":
            raise ValueError("a login needs security starttls or tls (the password would travel in clear)")
        return self

    def effective_port(self) -> int:
        return self.port if self.port is not None else {"starttls": 587, "tls": 465, "none": 25}[self.security]


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"not an e-mail address: {value!r}")
    return value


Channel = Annotated[WebhookChannel | MqttChannel | EmailChannel, Field(discriminator="kind")]


EventChange = Literal["opened", "closed", "recorded"]


def _default_changes() -> list[EventChange]:
    return ["opened", "recorded"]


class RouteConfig(Strict):
    channel: str = Field(description="The channel (by name) the matching events go to.")
    types: list[str] = Field(
        default_factory=list, description="Event types (e.g. line_cross, camera_offline); empty: all."
    )
    cameras: list[str] = Field(
        default_factory=list, description="Camera ids; empty: every camera and the node's own events."
    )
    labels: list[str] = Field(default_factory=list, description="Object labels, any of (e.g. person); empty: any.")
    zones: list[str] = Field(default_factory=list, description="Zone or line names; empty: anywhere.")
    min_severity: Literal["info", "warning", "critical"] = Field(
        default="info",
        description="Least severity: info (motion, objects), warning (rules, faults, offline), critical.",
    )
    changes: list[EventChange] = Field(
        default_factory=_default_changes,
        min_length=1,
        description="When: an event opened (began), closed (ended) or recorded (began and ended at once).",
    )

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r} (known: {', '.join(sorted(KNOWN_EVENT_TYPES))})")
        return value


class NotificationsConfig(Strict):
    channels: list[Channel] = Field(default_factory=list, description="Where notifications go, each with a name.")
    routes: list[RouteConfig] = Field(default_factory=list, description="Which events go to which channel.")
    public_url: str | None = Field(
        default=None, description="The console's address as receivers reach it, for links in notifications."
    )
    keep_finished_days: float = Field(
        default=30.0,
        gt=0,
        description="Delivered, failed and expired notifications (and their attempts) are kept this long.",
    )

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"must be an http:// or https:// address with a host (got {value!r})")
        return value

    @model_validator(mode="after")
    def _names(self) -> NotificationsConfig:
        names = [c.name for c in self.channels]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"channel name {twice[0]!r} is used twice")
        for k, route in enumerate(self.routes):
            if route.channel not in names:
                known = ", ".join(names) or "none"
                raise ValueError(f"routes[{k}]: no channel named {route.channel!r} (channels: {known})")
        return self

    def channel(self, name: str) -> WebhookChannel | MqttChannel | EmailChannel | None:
        return next((c for c in self.channels if c.name == name), None)


def secret_from_env(channel: str, variable: str, environ: Mapping[str, str] | None = None) -> str:
    """A channel's secret from its environment variable; ConfigError naming both when it is unset or empty."""
    value = (os.environ if environ is None else environ).get(variable)
    if not value:
        raise ConfigError(
            f"notifications channel {channel!r}: environment variable {variable} is not set (it holds the secret)"
        )
    return value
