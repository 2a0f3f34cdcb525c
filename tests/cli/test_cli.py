"""The `abonnement` command: exit codes, output, and that it calls the real services."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import override_settings

from abonnement.accounts.models import ApiToken
from abonnement.accounts.services import authenticate_token
from abonnement.cli import main
from abonnement.orders.models import Order
from tests.conftest import NOW, make_organization

pytestmark = pytest.mark.django_db


def test_help_lists_every_command(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("migrate", "serve", "demo", "worker", "rollover", "clock", "token", "staff"):
        assert command in out


def test_token_create_prints_a_working_vendor_token_once(capsys: Any) -> None:
    assert main(["token", "create", "--vendor", "--name", "CI"]) == 0
    captured = capsys.readouterr()
    secret = captured.out.strip()
    assert secret.startswith("abn_")
    assert "shown only now" in captured.err
    token = ApiToken.objects.get()
    assert (token.name, token.vendor, token.prefix) == ("CI", True, secret[:12])
    assert token.token_hash != secret
    assert authenticate_token(secret, now=NOW) == token


def test_token_create_needs_vendor_flag(capsys: Any) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "create", "--name", "x"])
    assert exit_info.value.code == 2
    assert ApiToken.objects.count() == 0


def test_rollover_dry_run_changes_nothing(catalog: None, capsys: Any) -> None:
    make_organization(period_months=1, start_date=date(2027, 1, 31))
    assert main(["rollover", "--at", "2027-05-02T09:00:00Z", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 1 subscriptions due, 3 period transitions would run" in out
    assert Order.objects.count() == 1


def test_rollover_runs_and_summarises(catalog: None, capsys: Any) -> None:
    make_organization(period_months=1, start_date=date(2027, 1, 31))
    assert main(["rollover", "--at", "2027-05-02T09:00:00Z", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "3 period transitions for 1 subscriptions, 3 renewal orders" in out
    assert Order.objects.filter(kind="renewal").count() == 4


@pytest.mark.parametrize(
    "argv",
    [
        ["rollover", "--at", "yesterday"],
        ["rollover", "--at", "2027-05-02T09:00:00"],  # no time zone
        ["clock", "set", "not-a-date"],
        ["frobnicate"],
        ["rollover", "--workers", "0"],
        ["rollover", "--workers", "two"],
        ["rollover", "--batch-size", "-5"],
        ["rollover", "--batch-size", "100001"],
        ["serve", "--workers", "0"],
        ["serve", "--port", "99999"],
        ["demo", "--port", "http"],
    ],
    ids=[
        "not-iso",
        "naive",
        "clock-not-iso",
        "unknown-command",
        "no-workers",
        "workers-not-a-number",
        "negative-batch",
        "huge-batch",
        "no-web-workers",
        "port-out-of-range",
        "port-not-a-number",
    ],
)
def test_bad_arguments_exit_2(argv: list[str], catalog: None, capsys: Any) -> None:
    make_organization(period_months=1, start_date=date(2027, 1, 31))
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err
    assert Order.objects.count() == 1  # nothing rolled over


def test_rollover_with_workers_inside_a_transaction_runs_on_one_connection(
    catalog: None, capsys: Any
) -> None:
    # The test's transaction is invisible to other connections: one sweep does it all.
    make_organization(period_months=1, start_date=date(2027, 1, 31))
    assert main(["rollover", "--at", "2027-05-02T09:00:00Z", "--quiet", "--workers", "3"]) == 0
    out = capsys.readouterr().out
    assert "3 period transitions for 1 subscriptions, 3 renewal orders" in out
    assert Order.objects.filter(kind="renewal").count() == 4


@override_settings(SIMULATED_CLOCK=False)
def test_clock_set_without_simulated_clock_is_refused(capsys: Any) -> None:
    assert main(["clock", "set", "2030-01-01T00:00:00Z"]) == 1
    assert "ABONNEMENT_SIMULATED_CLOCK=1" in capsys.readouterr().err


@override_settings(SIMULATED_CLOCK=True)
def test_clock_set_moves_forward_and_rolls_over(catalog: None, capsys: Any) -> None:
    from abonnement.core import clock
    from abonnement.core.models import SimulatedClock

    SimulatedClock.objects.create(pk=1, now=NOW)
    make_organization()
    assert main(["clock", "set", "2027-07-02T00:00:00Z"]) == 0
    assert "1 period transitions" in capsys.readouterr().out
    assert clock.now().isoformat() == "2027-07-02T00:00:00+00:00"
    assert main(["clock", "set", "2027-01-01T00:00:00Z"]) == 1
    assert "only moves forward" in capsys.readouterr().err


@override_settings(SIMULATED_CLOCK=False)
def test_clock_show_without_simulated_clock_says_it_is_the_real_one(
    capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    assert main(["clock", "show"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{NOW.isoformat()}\n"
    assert captured.err == (
        "abonnement: this is the real clock (ABONNEMENT_SIMULATED_CLOCK is off); "
        "`clock set` needs ABONNEMENT_SIMULATED_CLOCK=1\n"
    )


@override_settings(SIMULATED_CLOCK=True)
def test_clock_show_with_simulated_clock_prints_its_instant_alone(capsys: Any) -> None:
    from abonnement.core.models import SimulatedClock

    SimulatedClock.objects.create(pk=1, now=NOW)
    assert main(["clock", "show"]) == 0
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (f"{NOW.isoformat()}\n", "")


@pytest.fixture
def public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # `serve` and `demo` default the public URL to the server's; keep that out of os.environ.
    monkeypatch.setenv("ABONNEMENT_PUBLIC_URL", "http://127.0.0.1:8000")


@pytest.fixture
def gunicorn_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Stands in for gunicorn's main loop: records the configuration it would run with."""
    from gunicorn.app.base import BaseApplication

    runs: list[dict[str, Any]] = []

    def run(self: Any) -> None:
        cfg = self.cfg
        runs.append(
            {
                "bind": cfg.bind,
                "workers": cfg.workers,
                "control_socket": cfg.control_socket,
                "control_socket_disable": cfg.control_socket_disable,
            }
        )

    monkeypatch.setattr(BaseApplication, "run", run)
    return runs


@pytest.mark.usefixtures("public_url")
def test_serve_on_a_busy_port_says_so_in_one_line(
    capsys: Any, gunicorn_runs: list[dict[str, Any]]
) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        f"abonnement: port {port} is in use; choose another with --port (make demo PORT=8080)\n"
    )
    assert captured.out == ""
    assert gunicorn_runs == []


@pytest.mark.usefixtures("public_url")
def test_serve_uses_its_own_control_socket_in_the_data_folder(
    capsys: Any, gunicorn_runs: list[dict[str, Any]], settings: Any, tmp_path: Any
) -> None:
    import socket

    settings.DATA_DIR = tmp_path
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["serve", "--port", str(port), "--workers", "3"]) == 0
    assert gunicorn_runs == [
        {
            "bind": [f"127.0.0.1:{port}"],
            "workers": 3,
            "control_socket": str(tmp_path / f"gunicorn-{port}.ctl"),
            "control_socket_disable": False,
        }
    ]
    assert capsys.readouterr().out == f"Serving on http://127.0.0.1:{port}/ (Ctrl+C stops)\n"


def test_the_control_socket_is_off_where_the_data_folders_path_is_too_long() -> None:
    from pathlib import Path

    from abonnement.cli import _control_socket

    assert _control_socket(Path("/srv/abonnement/data"), 8000) == {
        "control_socket": "/srv/abonnement/data/gunicorn-8000.ctl"
    }
    assert _control_socket(Path("/srv/" + "d" * 90), 8000) == {"control_socket_disable": True}


def test_make_demo_passes_the_port(capsys: Any) -> None:
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    dry_run = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "demo", "PORT=8080"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "abonnement demo --port 8080\n" in dry_run.stdout
