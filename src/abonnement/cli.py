"""The ``abonnement`` command: everything an operator runs (API.md "Command line").

Exit codes: 0 success, 1 a refusal by the rules (message on stderr), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abonnement.config.settings")
    import django

    django.setup()


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 instant: {value!r} (e.g. 2027-01-01T00:00:00Z)"
        ) from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"give a time zone with the instant: {value!r} (e.g. 2027-01-01T00:00:00Z)"
        )
    return parsed


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= number <= 100_000:
        raise argparse.ArgumentTypeError(f"must be between 1 and 100000: {value!r}")
    return number


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from None
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535: {value!r}")
    return number


def _web_workers(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"must be between 1 and 64: {value!r}")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="abonnement",
        description="Abonnement: subscriptions, licences and billing details for B2B SaaS.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or update the database tables")

    for name, text in (
        ("serve", "serve the portal and API"),
        ("demo", "migrate, load the demo data if the database is empty, and serve"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=_port, default=8000)
        sub.add_argument("--workers", type=_web_workers, default=2, help="web worker processes")
        if name == "demo":
            sub.add_argument("--no-serve", action="store_true", help="load the demo data and exit")

    worker = commands.add_parser(
        "worker",
        help="run background tasks (documents, deliveries, webhooks) and, every "
        "ABONNEMENT_SCHEDULE_SECONDS, the due rollovers and reminders",
    )
    worker.add_argument("--batch", action="store_true", help="run what is queued, then exit")
    worker.add_argument(
        "--no-schedule",
        action="store_true",
        help="do not run the rollovers and reminders (when cron runs them instead)",
    )

    rollover = commands.add_parser("rollover", help="run every due period transition")
    rollover.add_argument("--at", type=_instant, help="the instant to roll over at (ISO 8601)")
    rollover.add_argument(
        "--dry-run", action="store_true", help="say what would run; change nothing"
    )
    rollover.add_argument(
        "--batch-size", type=_positive, default=None, help="subscriptions per transaction"
    )
    rollover.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="sweeps side by side, each with its own connection (PostgreSQL; SQLite uses one)",
    )
    rollover.add_argument("--quiet", action="store_true", help="no progress lines")

    clock = commands.add_parser("clock", help="the simulated clock")
    clock_commands = clock.add_subparsers(dest="clock_command", required=True, metavar="ACTION")
    clock_set = clock_commands.add_parser("set", help="move the clock forward, rolling over")
    clock_set.add_argument("instant", type=_instant)
    clock_commands.add_parser("show", help="print the clock's instant")

    reminders = commands.add_parser(
        "reminders",
        help="queue the due period-end reminders (once per period) and re-queue lost "
        "document and webhook work; run it daily",
    )
    reminders.add_argument("--at", type=_instant, help="the instant to act at (ISO 8601)")

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--vendor", action="store_true", required=True, help="a vendor token")
    create.add_argument("--name", required=True)

    staff = commands.add_parser("staff", help="back-office staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    staff_create = staff_commands.add_parser(
        "create", help="create a staff account; print (and e-mail) its link to choose a password"
    )
    staff_create.add_argument("--email", required=True)
    staff_create.add_argument("--name", required=True)
    staff_create.add_argument("--role", required=True, choices=["support", "billing"])
    staff_commands.add_parser("list", help="list the staff accounts")
    staff_deactivate = staff_commands.add_parser(
        "deactivate", help="deactivate a staff account and end its sessions"
    )
    staff_deactivate.add_argument("--email", required=True)
    staff_reset = staff_commands.add_parser(
        "reset-mfa",
        help="remove a staff account's authenticator and recovery codes (it enrols anew at "
        "the next sign-in) and end its sessions",
    )
    staff_reset.add_argument("--email", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in {"serve", "demo"}:
        # Links that leave the installation (e-mails, portal sessions) point at the server
        # being started unless the operator says otherwise.
        host = "127.0.0.1" if args.host in {"0.0.0.0", "::"} else args.host
        os.environ.setdefault("ABONNEMENT_PUBLIC_URL", f"http://{host}:{args.port}")
    if args.command == "demo":
        # The demo's staff logins sign in with the password alone (its processes only).
        os.environ.setdefault("ABONNEMENT_STAFF_MFA", "off")
    _setup()
    from abonnement.core.errors import DomainError

    try:
        return int(_run(args) or 0)
    except DomainError as error:
        print(f"abonnement: {error.message}", file=sys.stderr)
        for field_error in error.errors:
            print(f"  {field_error.field}: {field_error.message}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    command = args.command
    if command == "migrate":
        call_command("migrate", interactive=False, verbosity=1)
        return 0
    if command == "serve":
        return _serve(args.host, args.port, args.workers)
    if command == "demo":
        from abonnement.demo.loader import load_demo, print_logins

        call_command("migrate", interactive=False, verbosity=0)
        load_demo(stdout=sys.stdout)
        print_logins(stdout=sys.stdout, base_url=f"http://{args.host}:{args.port}")
        _print_portal_link()
        if args.no_serve:
            return 0
        if not _port_free(args.host, args.port):
            return 1
        # The demo delivers its documents too: a background worker beside the web server.
        worker = subprocess.Popen([sys.executable, "-m", "abonnement.cli", "worker"])
        try:
            return _serve(args.host, args.port, args.workers)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
    if command == "worker":
        return _worker(args)
    if command == "rollover":
        return _rollover(args)
    if command == "clock":
        return _clock(args)
    if command == "reminders":
        from abonnement.core import clock
        from abonnement.invoicing.services import requeue_missing_work, send_period_reminders
        from abonnement.notifications.services import publish_outbox, requeue_stranded_webhooks
        from abonnement.organizations.services import apply_due_vat_numbers

        now = args.at or clock.now()
        count = send_period_reminders(now=now)
        requeued = requeue_missing_work(now=now)
        published = publish_outbox(now=now)
        webhooks = requeue_stranded_webhooks(now=now)
        vat_numbers = apply_due_vat_numbers(now=now)
        print(
            f"{count} reminders queued; published {published} webhook events left in the "
            f"outbox; re-queued {requeued.orders} orders without documents, "
            f"{requeued.deliveries} stranded deliveries and {webhooks} stranded webhook "
            f"deliveries; {vat_numbers} VAT numbers came into force"
        )
        return 0
    if command == "token":
        from abonnement.accounts.services import create_vendor_token
        from abonnement.core import clock
        from abonnement.core.actor import Actor

        issued = create_vendor_token(name=args.name, actor=Actor.cli(), now=clock.now())
        print(issued.secret)
        print(f"vendor token {issued.token.name!r} created; it is shown only now.", file=sys.stderr)
        return 0
    if command == "staff":
        return _staff(args)
    raise AssertionError(command)


def _staff(args: argparse.Namespace) -> int:
    from abonnement.accounts import staff
    from abonnement.core import clock
    from abonnement.core.actor import Actor

    if args.staff_command == "create":
        invitation = staff.create_staff(
            email=args.email, name=args.name, role=args.role, actor=Actor.cli(), now=clock.now()
        )
        print(invitation.link)
        print(
            f"staff account {invitation.user.email} ({invitation.user.staff_role}) created. The "
            f"link above chooses its password (once, within 7 days); it is also e-mailed to "
            f"{invitation.user.email}.",
            file=sys.stderr,
        )
        return 0
    if args.staff_command == "list":
        print(_staff_table(staff.list_staff()), end="")
        return 0
    if args.staff_command == "deactivate":
        user = staff.deactivate_staff(email=args.email, actor=Actor.cli(), now=clock.now())
        print(f"staff account {user.email} deactivated; its sessions have ended.")
        return 0
    if args.staff_command == "reset-mfa":
        user = staff.reset_staff_mfa(email=args.email, actor=Actor.cli(), now=clock.now())
        print(
            f"the authenticator and recovery codes of {user.email} are removed and its sessions "
            f"have ended; it enrols a new authenticator at the next sign-in."
        )
        return 0
    raise AssertionError(args.staff_command)


def _staff_table(accounts: Sequence[Any]) -> str:
    """``staff list``: one line per account, columns as wide as their widest value."""
    from abonnement.core import clock

    if not accounts:
        return "no staff accounts\n"
    rows = [("e-mail", "name", "role", "active", "MFA enrolled", "last sign-in")]
    for account in accounts:
        last = account.last_sign_in
        rows.append(
            (
                account.email,
                account.name,
                account.role or "-",
                "yes" if account.active else "no",
                "yes" if account.mfa_enrolled else "no",
                last.astimezone(clock.business_zone()).strftime("%Y-%m-%d %H:%M %Z")
                if last is not None
                else "never",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        + "\n"
        for row in rows
    )


def _print_portal_link() -> None:
    """What a vendor's "Subscription" menu item does, done once for the demo's first
    administrator: a single-use portal-session link made through the API."""
    from abonnement.demo.links import portal_session_link
    from abonnement.demo.loader import DEMO_LOGINS

    email = DEMO_LOGINS[0][1]
    link = portal_session_link(email=email)
    print(f"Portal-session link for {email} (made through the API, works once):\n  {link}\n")


def _worker(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command

    from abonnement.subscriptions.scheduler import Timetable

    # The timetable runs beside the task loop in a long-running worker; a --batch run only
    # drains the queue, so it stays a predictable one-off.
    timetable = None
    if not args.batch and not args.no_schedule and settings.SCHEDULE_SECONDS > 0:
        timetable = Timetable(settings.SCHEDULE_SECONDS)
        timetable.start()
    try:
        call_command("db_worker", batch=args.batch, no_startup_delay=True)
    finally:
        if timetable is not None:
            timetable.stop()
    return 0


def _rollover(args: argparse.Namespace) -> int:
    from django.conf import settings

    from abonnement.core import clock
    from abonnement.subscriptions.rollover import roll_over_subscriptions

    now = args.at or clock.now()

    def progress(transitions: int, orders: int) -> None:
        if not args.quiet:
            print(f"  … {transitions} period transitions, {orders} orders", file=sys.stderr)

    result = roll_over_subscriptions(
        now=now,
        batch_size=args.batch_size,
        dry_run=args.dry_run,
        progress=progress,
        workers=args.workers or settings.ROLLOVER_WORKERS,
    )
    print(f"rollover at {now.isoformat()}: {result.summary()}")
    # Subscriptions held for want of a price need the catalogue fixed: say so to cron.
    return 1 if result.held else 0


def _clock(args: argparse.Namespace) -> int:
    from abonnement.core import clock
    from abonnement.subscriptions.rollover import advance_clock

    if args.clock_command == "show":
        print(clock.now().isoformat())
        if not clock.simulated():
            # The instant above is the wall clock's: say so, on stderr so a script reading
            # the instant from stdout still gets it alone.
            print(
                "abonnement: this is the real clock (ABONNEMENT_SIMULATED_CLOCK is off); "
                "`clock set` needs ABONNEMENT_SIMULATED_CLOCK=1",
                file=sys.stderr,
            )
        return 0
    result = advance_clock(to=args.instant, now=clock.now())
    print(f"clock set to {args.instant.isoformat()}; {result.summary()}")
    from abonnement.invoicing.services import send_period_reminders

    # Reminders that fell due while the clock moved go out as they would have (once each).
    print(f"{send_period_reminders(now=args.instant)} period-end reminders queued")
    # As `rollover`: subscriptions held for want of a price need the catalogue fixed.
    return 1 if result.held else 0


def _port_free(host: str, port: int) -> bool:
    """Whether the web server can listen on ``host:port``; if not, say so in one line.

    Bound (and released) the way gunicorn binds, with SO_REUSEADDR, so a port that only has
    connections closing counts as free and one another server listens on does not.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            print(
                f"abonnement: port {port} is in use; choose another with --port "
                "(make demo PORT=8080)",
                file=sys.stderr,
            )
        else:
            reason = error.strerror or str(error)
            print(f"abonnement: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
        return False
    return True


# Unix socket paths are limited to 108 bytes (104 on macOS), the terminating NUL included.
_UNIX_SOCKET_PATH_MAX = 100


def _control_socket(data_dir: Path, port: int) -> dict[str, Any]:
    """Gunicorn's control socket (``gunicornc -s PATH``): one per server, in the data
    folder and named after the port, instead of the one that every gunicorn on the machine
    shares in the home folder. Off where the data folder's path is too long for a socket."""
    path = data_dir / f"gunicorn-{port}.ctl"
    if len(os.fsencode(path)) > _UNIX_SOCKET_PATH_MAX:
        return {"control_socket_disable": True}
    return {"control_socket": str(path)}


def _serve(host: str, port: int, workers: int) -> int:
    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    from abonnement.config.wsgi import application

    if not _port_free(host, port):
        return 1
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "accesslog": "-",
        **_control_socket(settings.DATA_DIR, port),
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self) -> Any:
            return application

    print(f"Serving on http://{host}:{port}/ (Ctrl+C stops)", flush=True)
    Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
