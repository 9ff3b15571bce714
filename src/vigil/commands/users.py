"""``vigil users ...``: accounts from the command line (the console's settings page comes with issue 4).

A password is never taken on the command line (it would stay in the shell history): ``add`` and
``reset-password`` make up a one-time password and print it once; the user must change it at the first login.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigil.commands.args import instant_arg, os_user
from vigil.config.models import Config
from vigil.domain.access import Grant, parse_actions
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction
from vigil.domain.errors import InvalidRequest
from vigil.domain.timeutil import iso_from_us
from vigil.ports import SystemClock
from vigil.usecases.accounts import Accounts


def _instant(name: str, text: str | None) -> int | None:
    return None if text is None else instant_arg(name, text)


def run_users(config: Config, base: Path, args: argparse.Namespace) -> int:
    from vigil.wiring import open_accounts  # the composition root, only when a command runs

    accounts, audit, close = open_accounts(config, base)
    try:
        code = _run(accounts, config, args)
        if code == 0 and args.users_command in CHANGES:
            detail = {"user": args.username.lower(), "command": args.users_command, "os_user": os_user()}
            if args.users_command == "grant":
                detail |= {k: v for k in ("camera", "site", "actions", "since", "until") if (v := getattr(args, k))}
                detail["all"] = bool(args.all)
            elif args.users_command in ("add", "role"):
                detail["role"] = args.role
            elif args.users_command == "vendor":
                detail |= {"vendor": args.vendor, "since": args.since, "until": args.until}
            elif args.users_command == "token":
                detail["token_name"] = args.name
            audit.append(SystemClock().now_us(), SYSTEM_ACTOR, CHANGES[args.users_command], client="cli", detail=detail)
        return code
    finally:
        close()


# Each change of users or permissions is written to the audit log (never a password or a token).
CHANGES = {
    "add": AuditAction.USER_CHANGE,
    "grant": AuditAction.PERMISSION_CHANGE,
    "revoke": AuditAction.PERMISSION_CHANGE,
    "role": AuditAction.PERMISSION_CHANGE,
    "disable": AuditAction.USER_CHANGE,
    "enable": AuditAction.USER_CHANGE,
    "reset-password": AuditAction.PASSWORD_CHANGE,
    "token": AuditAction.TOKEN_CHANGE,
    "vendor": AuditAction.PERMISSION_CHANGE,
}


def _run(accounts: Accounts, config: Config, args: argparse.Namespace) -> int:
    action = args.users_command
    if action == "list":
        for user in accounts.users():
            states = (("disabled", user.disabled), ("must change password", user.must_change_password))
            flags = [name for name, on in states if on]
            print(f"{user.username:20} {user.role:9} {', '.join(flags)}")
            for g in accounts.principal(user.username).grants:
                where = f"camera {g.camera_id}" if g.camera_id else f"site {g.site}" if g.site else "every camera"
                extra = f" + {', '.join(sorted(a.value for a in g.actions))}" if g.actions else ""
                span = ""
                if g.history_from_us is not None or g.history_until_us is not None:
                    since = iso_from_us(g.history_from_us) if g.history_from_us is not None else "..."
                    until = iso_from_us(g.history_until_us) if g.history_until_us is not None else "..."
                    span = f", history {since} to {until}"
                print(f"{'':20}   {where}{extra}{span}")
        return 0
    if action == "add":
        password = accounts.add_user(args.username, args.role)
        print(f"user {args.username.lower()} ({args.role}) created; one-time password (change it at first login):")
        print(password)
        return 0
    if action == "grant":
        if args.camera and config.camera(args.camera) is None:
            raise InvalidRequest(f"no camera {args.camera!r} in the configuration")
        if sum(bool(x) for x in (args.camera, args.site, args.all)) != 1:
            raise InvalidRequest("say where: exactly one of --camera, --site or --all")
        try:
            actions = parse_actions([a for a in (args.actions or "").split(",") if a])
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        grant = Grant(args.camera, args.site, actions, _instant("from", args.since), _instant("until", args.until))
        current = list(accounts.principal(args.username).grants)
        accounts.set_grants(args.username, [*current, grant])
        print(f"granted to {args.username}")
        return 0
    if action == "revoke":
        accounts.set_grants(args.username, [])
        print(f"every grant of {args.username} revoked")
        return 0
    if action == "role":
        accounts.set_role(args.username, args.role)
        print(f"{args.username} is now {args.role}")
        return 0
    if action in ("disable", "enable"):
        accounts.set_disabled(args.username, action == "disable")
        print(f"{args.username} {action}d")
        return 0
    if action == "vendor":
        accounts.set_vendor(args.username, args.vendor, _instant("from", args.since), _instant("until", args.until))
        print(f"{args.username} is " + (f"an account of {args.vendor}" if args.vendor else "the site's own account"))
        return 0
    if action == "reset-password":
        print(f"one-time password for {args.username} (change it at first login):")
        print(accounts.reset_password(args.username))
        return 0
    if action == "token":
        print(f"API token {args.name!r} for {args.username} (shown once; send it as 'Authorization: Bearer ...'):")
        print(accounts.issue_token(args.username, args.name))
        return 0
    raise InvalidRequest(f"unknown users command {action!r}")


ROLES = ["admin", "operator", "viewer", "auditor", "technician"]


def add_parser(sub: Any, func: Callable[[argparse.Namespace], int]) -> None:
    p = sub.add_parser("users", help="manage users, roles, grants and API tokens", description=__doc__)
    p.set_defaults(func=func)
    users = p.add_subparsers(dest="users_command", required=True)
    users.add_parser("list", help="users with their roles and grants")
    q = users.add_parser("add", help="create a user with a one-time password")
    q.add_argument("username")
    q.add_argument("--role", required=True, choices=ROLES)
    q = users.add_parser("grant", help="open cameras to a user (and, optionally, a stretch of history)")
    q.add_argument("username")
    q.add_argument("--camera", help="one camera id")
    q.add_argument("--site", help="every camera of a site")
    q.add_argument("--all", action="store_true", help="every camera")
    q.add_argument("--actions", help="actions added on these cameras, e.g. playback,export (for an auditor)")
    q.add_argument("--from", dest="since", help="history from (ISO 8601): playback and export only of later footage")
    q.add_argument("--until", help="history until (ISO 8601)")
    q = users.add_parser("revoke", help="remove every grant of a user")
    q.add_argument("username")
    q = users.add_parser("role", help="change a user's role (their sessions end)")
    q.add_argument("username")
    q.add_argument("role", choices=ROLES)
    q = users.add_parser(
        "vendor", help="make a user a vendor's account, usable in a window (technicians of a contractor)"
    )
    q.add_argument("username")
    q.add_argument("--vendor", required=True, help="the vendor's name (as in the register); '' for the site's own")
    q.add_argument("--from", dest="since", help="usable from (ISO 8601)")
    q.add_argument("--until", help="usable until (ISO 8601)")
    for name, text in (("disable", "stop a user from logging in"), ("enable", "let a disabled user log in again")):
        q = users.add_parser(name, help=text)
        q.add_argument("username")
    q = users.add_parser("reset-password", help="a new one-time password for a user")
    q.add_argument("username")
    q = users.add_parser("token", help="issue an API token for an integration")
    q.add_argument("username")
    q.add_argument("--name", required=True, help="what uses it, e.g. 'alarm panel'")
