"""Where the rate-limit counters live (ABONNEMENT_CACHE_URL), and that every process of one
deployment counts against the same limit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from abonnement.config.settings import DATA_DIR, _caches


def test_the_default_is_a_folder_in_the_data_directory() -> None:
    assert _caches("") == {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
    assert _caches("file:///srv/abonnement/cache")["default"]["LOCATION"] == (
        "/srv/abonnement/cache"
    )


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1", "unix:///run/r.sock"]
)
def test_redis_urls_use_djangos_redis_cache(url: str) -> None:
    assert _caches(url) == {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }


def test_locmem_is_one_processs_memory() -> None:
    assert _caches("locmem://") == {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }


def test_an_unknown_cache_url_stops_the_start() -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        _caches("memcached://127.0.0.1:11211")
    assert str(refused.value) == (
        "ABONNEMENT_CACHE_URL: expected redis://host:port/db, file:///folder or locmem://, "
        "not 'memcached://127.0.0.1:11211'"
    )


def _fail_once_in_a_new_process(data_dir: Path, email: str, **env: str) -> str:
    """One failed sign-in recorded by a fresh process; prints whether the account is now
    limited as seen from yet another client address."""
    code = (
        "import django; django.setup()\n"
        "from abonnement.accounts import ratelimit\n"
        f"ratelimit.record_failure(email={email!r}, address='10.0.0.1')\n"
        f"print(ratelimit.is_limited(email={email!r}, address='10.9.9.9'))\n"
    )
    environment = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="abonnement.config.settings",
        ABONNEMENT_DATA_DIR=str(data_dir),
        ABONNEMENT_SIGN_IN_LIMIT_PER_ACCOUNT="2",
        **env,
    )
    environment.pop("DATABASE_URL", None)  # the counters never touch the database
    if "ABONNEMENT_CACHE_URL" not in env:
        environment.pop("ABONNEMENT_CACHE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_web_workers_on_one_machine_share_the_sign_in_limit(tmp_path: Path) -> None:
    email = "anna@testi.example"
    assert _fail_once_in_a_new_process(tmp_path, email) == "False"
    assert _fail_once_in_a_new_process(tmp_path, email) == "True"
    assert len(list((tmp_path / "cache").glob("*.djcache"))) == 2  # account and address


def _redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_is_up(), reason="no Redis on 127.0.0.1:6379")
def test_machines_sharing_redis_share_the_sign_in_limit(tmp_path: Path) -> None:
    import redis

    email = f"{uuid.uuid4().hex}@testi.example"  # a fresh account: nothing counted yet
    url = "redis://127.0.0.1:6379/15"
    try:
        assert _fail_once_in_a_new_process(tmp_path / "a", email, ABONNEMENT_CACHE_URL=url) == (
            "False"
        )
        assert _fail_once_in_a_new_process(tmp_path / "b", email, ABONNEMENT_CACHE_URL=url) == (
            "True"
        )
        assert not (tmp_path / "a" / "cache").exists()
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=":1:sign-in:*"):
            client.delete(key)
