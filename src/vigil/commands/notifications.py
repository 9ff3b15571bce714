"""``vigil notifications list|show|retry``: the notification outbox from the command line.

``list`` shows notifications newest first (filter by state, channel, camera); ``show ID`` one of them with every
attempt and the bytes it sends; ``retry ID`` puts a failed or expired one back to pending (a running ``vigil serve``
sends it within a second) and records that in the audit log as ``notification_retry`` by ``system`` from ``cli``.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.commands.args import os_user
from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction
from vigil.domain.notifications import JSON_CONTENT_TYPE, NotificationState
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.notifications import NotificationView


def run_notifications(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.storage.audit_log import SqlAuditLog, audit_anchor_path
    from vigil.wiring import open_outbox  # the composition root, only when a command runs

    outbox, catalog, paths = open_outbox(config, base)
    try:
        if args.notifications_command == "list":
            views = outbox.list(state=args.state, channel=args.channel, key=args.camera, limit=args.limit)
            _table(views)
            return 0
        if args.notifications_command == "show":
            _show(outbox.show(args.id))
            return 0
        again = outbox.retry(args.id)
        SqlAuditLog(catalog, audit_anchor_path(paths.catalog_url, paths.root)).append(
            outbox.clock.now_us(),
            SYSTEM_ACTOR,
            AuditAction.NOTIFICATION_RETRY,
            client="cli",
            camera_id=again.key or None,
            detail={"notification": again.id, "channel": again.channel, "os_user": os_user()},
        )
        print(f"notification {again.id} is pending again (channel {again.channel}); a running node sends it shortly")
        return 0
    finally:
        catalog.close()


def _table(views: list[NotificationView]) -> None:
    if not views:
        print("no notifications")
        return
    print(f"{'id':36}  {'state':9}  {'channel':12}  {'camera':12}  {'kind':13}  {'created':24}  tries  last error")
    for v in views:
        n = v.notification
        print(
            f"{n.id:36}  {n.state:9}  {n.channel:12}  {n.key or '-':12}  {n.kind:13}  {iso_from_us(n.created_us):24}  "
            f"{n.attempts:5}  {n.last_error}"
        )


def _show(view: NotificationView) -> None:
    n = view.notification
    rows: list[tuple[str, Any]] = [
        ("id", n.id),
        ("state", n.state),
        ("channel", n.channel),
        ("kind", n.kind),
        ("camera", n.key or "-"),
        ("event", n.event_id if n.event_id is not None else "-"),
        ("created", iso_from_us(n.created_us)),
        ("expires", iso_from_us(n.expires_us)),
        ("finished", iso_from_us(n.finished_us) if n.finished_us is not None else "-"),
        ("next attempt", iso_from_us(n.next_attempt_us) if n.state == NotificationState.PENDING else "-"),
        ("payload", f"{n.payload_bytes} bytes {n.content_type}, sha256 {n.payload_sha256}"),
    ]
    for name, value in rows:
        print(f"{name + ':':14}{value}")
    print(f"attempts ({len(view.attempts)}):")
    for a in view.attempts:
        status = f" {a.status}" if a.status is not None else ""
        print(f"  {iso_from_us(a.at_us)}  {a.outcome:9}{status}  {a.duration_ms:.0f} ms  {a.error}")
    print("payload:")
    print(_payload_text(n.content_type, n.payload or b""))


def _payload_text(content_type: str, payload: bytes) -> str:
    if content_type == JSON_CONTENT_TYPE:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False)
    msg = email.message_from_bytes(payload, policy=email.policy.default)
    head = "\n".join(f"{k}: {v}" for k, v in msg.items())
    leaves = [p for p in msg.walk() if not p.is_multipart()]
    parts = [f"  {p.get_content_type()} ({len(p.get_content())} characters or bytes)" for p in leaves]
    return head + "\nparts:\n" + "\n".join(parts)


def add_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser(
        "notifications", help="list, show and retry notifications (webhook, MQTT, e-mail)", description=__doc__
    )
    p.set_defaults(func=func)
    cmds = p.add_subparsers(dest="notifications_command", required=True)
    q = cmds.add_parser("list", help="notifications newest first, with their state and last error")
    q.add_argument("--state", choices=[s.value for s in NotificationState])
    q.add_argument("--channel", help="one channel's")
    q.add_argument("--camera", help="one camera's")
    q.add_argument("--limit", type=int, default=50)
    q = cmds.add_parser("show", help="one notification: every attempt and the bytes it sends")
    q.add_argument("id")
    q = cmds.add_parser("retry", help="send a failed or expired notification again (audited)")
    q.add_argument("id")
