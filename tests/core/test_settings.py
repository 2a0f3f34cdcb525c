"""Settings read from the environment: the cache URL and the whole-number settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from abonnement.config.settings import _caches


def test_the_default_cache_is_the_processs_memory() -> None:
    expected = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert _caches("") == expected
    assert _caches("locmem://") == expected


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/r.sock"]
)
def test_redis_urls_use_djangos_redis_cache(url: str) -> None:
    assert _caches(url) == {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }


@pytest.mark.parametrize("url", ["memcached://127.0.0.1:11211", "file:///srv/cache"])
def test_an_unknown_cache_url_stops_the_start(url: str) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        _caches(url)
    assert str(refused.value) == (
        f"ABONNEMENT_CACHE_URL: expected redis://host:port/db or locmem://, not {url!r}"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "ABONNEMENT_ROLLOVER_BATCH_SIZE must be 1 or more, not 0."),
        ("-5", "ABONNEMENT_ROLLOVER_BATCH_SIZE must be 1 or more, not -5."),
        ("abc", "ABONNEMENT_ROLLOVER_BATCH_SIZE must be a whole number, not 'abc'."),
    ],
)
def test_a_whole_number_setting_out_of_range_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    from abonnement.config.settings import _env_int

    monkeypatch.setenv("ABONNEMENT_ROLLOVER_BATCH_SIZE", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        _env_int("ABONNEMENT_ROLLOVER_BATCH_SIZE", 5000, minimum=1)
    assert str(refused.value) == message


def test_a_whole_number_setting_defaults_and_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from abonnement.config.settings import _env_int

    monkeypatch.delenv("ABONNEMENT_ROLLOVER_BATCH_SIZE", raising=False)
    assert _env_int("ABONNEMENT_ROLLOVER_BATCH_SIZE", 5000, minimum=1) == 5000
    monkeypatch.setenv("ABONNEMENT_ROLLOVER_BATCH_SIZE", " 250 ")
    assert _env_int("ABONNEMENT_ROLLOVER_BATCH_SIZE", 5000, minimum=1) == 250


SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}


def test_the_embedded_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path) -> None:
    from abonnement.config.settings import _databases

    assert _databases("", tmp_path / "data") == {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(tmp_path / "data" / "abonnement.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
    assert (tmp_path / "data").is_dir()


def test_a_sqlite_database_url_gets_the_same_options(tmp_path: Path) -> None:
    from abonnement.config.settings import _databases

    database = _databases(f"sqlite:///{tmp_path}/demo.sqlite3", tmp_path)["default"]
    assert (database["ENGINE"], database["NAME"], database["OPTIONS"]) == (
        "django.db.backends.sqlite3",
        f"{tmp_path}/demo.sqlite3",
        SQLITE_OPTIONS,
    )
    # An option written in the URL wins over the default one.
    database = _databases(f"sqlite:///{tmp_path}/demo.sqlite3?timeout=60", tmp_path)["default"]
    assert database["OPTIONS"] == {**SQLITE_OPTIONS, "timeout": 60}


def test_a_postgresql_url_gets_no_sqlite_options(tmp_path: Path) -> None:
    from abonnement.config.settings import _databases

    database = _databases("postgres://app@db.example:5432/abonnement", tmp_path)["default"]
    assert (database["ENGINE"], database["NAME"], database["HOST"], database["TEST"]) == (
        "django.db.backends.postgresql",
        "abonnement",
        "db.example",
        {},
    )
    assert "OPTIONS" not in database or database["OPTIONS"] == {}


def test_two_connections_check_then_write_at_once_on_a_sqlite_url(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's web server and worker on DATABASE_URL=sqlite:///…: two transactions that
    read, then write, at the same time. Without BEGIN IMMEDIATE the second writer fails at
    once with "database is locked"; with it, it waits for the first and both count."""
    from django.db import connections, transaction

    from abonnement.config.settings import _databases

    alias = "concurrent_sqlite"
    database = _databases(f"sqlite:///{tmp_path}/shared.sqlite3", tmp_path)["default"]
    monkeypatch.setitem(
        connections.settings,
        alias,
        connections.configure_settings({"default": database})["default"],
    )
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def add_one() -> None:
        try:
            start.wait(timeout=10)
            with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
                cursor.execute("SELECT value FROM counter WHERE id = 1")
                (value,) = cursor.fetchone()
                time.sleep(0.5)  # the other connection reads meanwhile (without IMMEDIATE)
                cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connections[alias].close()

    with django_db_blocker.unblock():
        with connections[alias].cursor() as cursor:
            cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
            cursor.execute("INSERT INTO counter VALUES (1, 0)")
        threads = [threading.Thread(target=add_one) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        with connections[alias].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
            cursor.execute("SELECT value FROM counter WHERE id = 1")
            total = cursor.fetchone()[0]
        connections[alias].close()
        del connections[alias]
    assert [str(failure) for failure in failures] == []
    assert (total, journal_mode) == (2, "wal")


def test_no_proxies_and_no_secure_cookies_leave_https_alone() -> None:
    from abonnement.config.settings import _transport_security

    assert _transport_security(trusted_proxies=0, secure_cookies=False, hsts_seconds=31536000) == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_SSL_REDIRECT": False,
    }


def test_behind_a_proxy_with_secure_cookies_https_is_enforced() -> None:
    from abonnement.config.settings import _transport_security

    assert _transport_security(trusted_proxies=1, secure_cookies=True, hsts_seconds=31536000) == {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
    }


def test_without_proxies_https_is_never_redirected_to() -> None:
    # The server itself speaks plain HTTP: what terminates TLS in front of it, telling it
    # nothing, would be redirected back to HTTPS on every request.
    from abonnement.config.settings import _transport_security

    assert _transport_security(trusted_proxies=0, secure_cookies=True, hsts_seconds=600) == {
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": False,
    }
    assert _transport_security(trusted_proxies=2, secure_cookies=True, hsts_seconds=0) == {
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_SSL_REDIRECT": True,
    }


def test_a_production_configuration_passes_djangos_deploy_checks() -> None:
    """`manage.py check --deploy` for an installation behind one HTTPS proxy with secure
    cookies: no security warning is left (security.W021, HSTS preload, is silenced in the
    settings on purpose)."""
    from django.core.checks import run_checks
    from django.test import override_settings

    from abonnement.config.settings import _embedding, _transport_security

    production = {
        **_transport_security(trusted_proxies=1, secure_cookies=True, hsts_seconds=31536000),
        **{
            name: value
            for name, value in _embedding("'none'", secure_cookies=True).items()
            if name.isupper()
        },
        "DEBUG": False,
        "SECRET_KEY": "k7Q-" + "x9Zp2mL8vB4nR6tY1wE3qU5oI7aS0dF" * 2,
        "ALLOWED_HOSTS": ["billing.vendor.example"],
        "TRUSTED_PROXIES": 1,
    }
    with override_settings(**production):
        messages = run_checks(include_deployment_checks=True)
    # async.E001 is about the test process (DJANGO_ALLOW_ASYNC_UNSAFE, set for the browser
    # tests), not the configuration.
    # As `manage.py check` does, the settings' SILENCED_SYSTEM_CHECKS are left out.
    found = [f"{m.id}: {m.msg}" for m in messages if not m.is_silenced() and m.id != "async.E001"]
    assert found == [], found


def test_https_headers_behind_a_proxy(client: Any, settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_SSL_REDIRECT = True
    plain = client.get("/favicon.ico?x=1", HTTP_X_FORWARDED_PROTO="http")
    assert (plain.status_code, plain["Location"]) == (301, "https://testserver/favicon.ico?x=1")
    assert "Strict-Transport-Security" not in plain
    secure = client.get("/favicon.ico", HTTP_X_FORWARDED_PROTO="https")
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
