"""Settings read from the environment: the cache URL and the whole-number settings."""

from __future__ import annotations

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
