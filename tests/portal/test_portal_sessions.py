"""Opening a portal-session link over HTTP: it signs the user in once, before it expires on
the business clock, lands on the section in the language asked for, and the top bar leads
back to the vendor's product. Used, expired, forged and deactivated links get a page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import PortalSession, User
from abonnement.accounts.portal_sessions import create_portal_session
from abonnement.accounts.services import deactivate_user
from abonnement.core.models import SimulatedClock
from tests.conftest import NOW, VENDOR, admin_of
from tests.portal.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

RETURN_URL = "https://app.vendor.example/settings?from=billing&x=1"
BACK_LINK = (
    '<a class="button button-quiet back-to-product" '
    'href="https://app.vendor.example/settings?from=billing&amp;x=1" target="_top">'
    "Back to {product}</a>"
)


@pytest.fixture(autouse=True)
def _vendor_host(settings: Any, clock_at_now: None) -> None:
    settings.RETURN_URL_HOSTS = ["app.vendor.example"]


def link(user: Any, **options: Any) -> str:
    """The path of a new link for ``user`` (as the API makes it, without PUBLIC_URL)."""
    issued = create_portal_session(
        organization=user.organization, user_id=str(user.pk), actor=VENDOR, now=NOW, **options
    )
    return issued.url.removeprefix("http://127.0.0.1:8000")


def move_clock(seconds: int) -> None:
    SimulatedClock.objects.filter(pk=1).update(now=NOW + timedelta(seconds=seconds))


def signed_in_user_id(client: Client) -> str | None:
    value = client.session.get("_auth_user_id")
    return None if value is None else str(value)


@pytest.mark.parametrize(
    ("section", "address"),
    [
        ("overview", "/settings/subscription/"),
        ("licenses", "/settings/subscription/licences/"),
        ("features", "/settings/subscription/features/"),
        ("billing", "/settings/subscription/billing/"),
        ("history", "/settings/subscription/history/"),
        ("users", "/settings/users/"),
    ],
)
def test_a_link_signs_in_and_lands_on_the_section(
    org: Any, admin_user: Any, section: str, address: str
) -> None:
    client = Client()
    response = client.get(link(admin_user, section=section))
    assert (response.status_code, response["Location"]) == (302, address)
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert signed_in_user_id(client) == str(admin_user.pk)
    assert client.get(address).status_code == 200
    stored = PortalSession.objects.get()
    assert stored.used_at == NOW
    admin_user.refresh_from_db()
    assert admin_user.last_login == NOW


def test_opening_a_link_starts_a_new_session(org: Any, admin_user: Any) -> None:
    client = Client()
    client.get("/sign-in/")  # an anonymous session with its CSRF cookie
    client.session.save()
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else ""
    client.get(link(admin_user))
    after = client.cookies["sessionid"].value
    assert after and after != before


def test_the_link_speaks_its_language_for_this_session_only(org: Any, admin_user: Any) -> None:
    client = Client()
    client.get(link(admin_user, language="fi"))
    page = client.get("/settings/subscription/", HTTP_ACCEPT_LANGUAGE="nl")
    text = page.content.decode()
    assert '<html lang="fi">' in text and "Tilaus" in text
    assert page["Content-Language"] == "fi"
    admin_user.refresh_from_db()
    assert admin_user.language == "en"
    # Another browser of the same user speaks the profile's language.
    other = client_for(admin_user).get("/settings/subscription/").content.decode()
    assert '<html lang="en">' in other
    # Saving a language in the profile ends the link's, even the one saved already.
    client.post("/account/profile/", {"language": "en"})
    assert '<html lang="en">' in client.get("/settings/subscription/").content.decode()


def test_a_profile_language_changed_elsewhere_ends_the_links(org: Any, admin_user: Any) -> None:
    client = Client()
    client.get(link(admin_user, language="nl"))
    assert '<html lang="nl">' in client.get("/settings/").content.decode()
    User.objects.filter(pk=admin_user.pk).update(language="fi")
    assert '<html lang="fi">' in client.get("/settings/").content.decode()


def test_without_a_language_the_profile_speaks(org: Any, admin_user: Any) -> None:
    User.objects.filter(pk=admin_user.pk).update(language="nl")
    client = Client()
    client.get(link(admin_user))
    assert '<html lang="nl">' in client.get("/settings/").content.decode()


def test_every_page_leads_back_to_the_product(org: Any, admin_user: Any, settings: Any) -> None:
    client = Client()
    client.get(link(admin_user, return_url=RETURN_URL))
    for address in ("/settings/subscription/", "/settings/users/", "/account/profile/"):
        page = client.get(address).content.decode()
        assert page.count(BACK_LINK.format(product="Abonnement")) == 1, address
    settings.PRODUCT_NAME = "Acme Books"
    page = client.get("/settings/subscription/").content.decode()
    assert BACK_LINK.format(product="Acme Books") in page
    assert "<title>Subscription · Acme Books</title>" in page
    assert "<span>Acme Books</span>" in page


def test_without_a_return_url_there_is_no_way_back_link(org: Any, admin_user: Any) -> None:
    client = Client()
    client.get(link(admin_user))
    assert "back-to-product" not in client.get("/settings/subscription/").content.decode()
    # Nor for a user who signed in with a password.
    assert "back-to-product" not in client_for(admin_user).get("/settings/").content.decode()


def test_a_link_works_once(org: Any, admin_user: Any) -> None:
    address = link(admin_user, return_url=RETURN_URL, language="nl")
    first = Client()
    assert first.get(address).status_code == 302
    second = Client()
    response = second.get(address)
    assert response.status_code == 410
    page = response.content.decode()
    # In the link's language, Dutch.
    assert '<html lang="nl">' in page
    assert "Deze link is gebruikt of verlopen" in page
    assert (
        '<a class="button" href="https://app.vendor.example/settings?from=billing&amp;x=1" '
        'target="_top">Terug naar Abonnement</a>'
    ) in page
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert signed_in_user_id(second) is None
    # The first browser stays signed in; using the link again does not sign it out.
    assert first.get(address).status_code == 410
    assert signed_in_user_id(first) == str(admin_user.pk)
    assert PortalSession.objects.get().used_at == NOW


@pytest.mark.parametrize(("seconds", "status"), [(299, 302), (300, 410), (301, 410)])
def test_a_link_expires_on_the_business_clock(
    org: Any, admin_user: Any, seconds: int, status: int
) -> None:
    address = link(admin_user)
    move_clock(seconds)
    client = Client()
    response = client.get(address)
    assert response.status_code == status
    if status == 410:
        assert "This link has been used or has expired" in response.content.decode()
        assert signed_in_user_id(client) is None
        assert PortalSession.objects.get().used_at is None


def test_the_lifetime_is_the_setting(org: Any, admin_user: Any, settings: Any) -> None:
    settings.PORTAL_SESSION_SECONDS = 30
    address = link(admin_user)
    move_clock(31)
    assert Client().get(address).status_code == 410


@pytest.mark.parametrize(
    "address",
    [
        "/portal-session/forged-forged-forged-forged-forged-forged-xx/",
        "/portal-session/x/",
        "/portal-session/" + "A" * 5000 + "/",
        "/portal-session/%ff%C3%A4/",
    ],
)
def test_a_forged_link_is_not_found(org: Any, admin_user: Any, address: str) -> None:
    link(admin_user)
    client = Client()
    response = client.get(address)
    assert response.status_code == 404
    page = response.content.decode()
    assert "This link is not valid" in page
    assert '<a class="button" href="/sign-in/">Sign in</a>' in page
    assert signed_in_user_id(client) is None
    assert PortalSession.objects.get().used_at is None


def test_a_link_with_a_nul_character_is_refused_at_the_edge(org: Any, admin_user: Any) -> None:
    # core/nul.py answers a NUL in any path with the site's 404 before a view runs.
    link(admin_user)
    client = Client()
    response = client.get("/portal-session/%00%ff%C3%A4/")
    assert response.status_code == 404
    assert "This link is not valid" not in response.content.decode()
    assert signed_in_user_id(client) is None
    assert PortalSession.objects.get().used_at is None


def test_the_refusal_page_speaks_the_browsers_language_for_a_forged_link(org: Any) -> None:
    response = Client().get("/portal-session/nothing/", HTTP_ACCEPT_LANGUAGE="fi")
    assert '<html lang="fi">' in response.content.decode()
    assert response["Content-Language"] == "fi"


def test_only_get_opens_a_link(org: Any, admin_user: Any) -> None:
    address = link(admin_user)
    assert Client().head(address).status_code == 405
    assert Client().post(address).status_code in (403, 405)  # CSRF refuses a bare POST first
    assert PortalSession.objects.get().used_at is None
    assert Client().get(address).status_code == 302


def test_a_user_deactivated_after_the_link_was_made_is_refused(org: Any, admin_user: Any) -> None:
    olga = make_user(org, "olga@testi.example")
    address = link(olga, return_url=RETURN_URL)
    deactivate_user(organization=org, user_id=olga.pk, license="keep", actor=admin_of(org), now=NOW)
    client = Client()
    response = client.get(address)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Your account is deactivated" in page
    assert 'href="https://app.vendor.example/settings?from=billing&amp;x=1"' in page
    assert signed_in_user_id(client) is None
    # The link is used up: reactivating the user does not bring it back.
    assert PortalSession.objects.get().used_at == NOW


def test_a_link_replaces_whoever_was_signed_in(org: Any, admin_user: Any) -> None:
    olga = make_user(org, "olga@testi.example", permissions=["manage_users"])
    client = client_for(admin_user)
    client.get("/settings/")
    anna_session = client.cookies["sessionid"].value
    response = client.get(link(olga, section="users", return_url=RETURN_URL))
    assert response["Location"] == "/settings/users/"
    assert signed_in_user_id(client) == str(olga.pk)
    assert client.cookies["sessionid"].value != anna_session
    # Anna's session is gone, not handed over.
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=anna_session).exists()


def test_a_user_without_the_permission_sees_who_holds_it(org: Any, admin_user: Any) -> None:
    olga = make_user(org, "olga@testi.example")
    client = Client()
    response = client.get(link(olga, section="overview"), follow=True)
    assert response.redirect_chain == [("/settings/subscription/", 302)]
    assert response.status_code == 403
    page = response.content.decode()
    assert "You don't have permission to open this page" in page
    assert "<strong>Anna Admin</strong> · " in page
    assert '<a href="mailto:admin@testi.example">admin@testi.example</a>' in page
    assert signed_in_user_id(client) == str(olga.pk)


def test_the_history_says_who_made_a_link_for_whom(org: Any, admin_user: Any) -> None:
    link(admin_user)
    response = client_for(admin_user).get("/settings/subscription/history/?show=users")
    page = response.content.decode()
    assert "Portal sign-in link made for admin@testi.example" in page
    assert "Test vendor" in page


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_only() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections redeeming at once (DATABASE_URL)")


def _make_link_committed() -> tuple[Any, str]:
    from tests.conftest import make_catalog, make_organization

    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})
    make_catalog()
    organization = make_organization()
    anna = admin_of(organization).user
    return anna, link(anna)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_sign_in_exactly_once(settings: Any) -> None:
    """The first redemption holds its row lock until it commits; the second waits on it,
    then finds the link used: one conditional UPDATE, exactly one winner."""
    _postgres_only()
    import threading

    from django.db import connection, connections, transaction

    from abonnement.accounts.portal_sessions import PortalSessionGone, redeem_portal_session

    settings.SIMULATED_CLOCK = True
    anna, address = _make_link_committed()
    secret = address.removeprefix("/portal-session/").removesuffix("/")
    first_claimed = threading.Event()
    release_first = threading.Event()
    results: dict[str, Any] = {}
    backend_pids: dict[str, int] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                backend_pids["first"] = connection.connection.info.backend_pid
                results["first"] = redeem_portal_session(secret=secret, now=NOW)
                first_claimed.set()
                release_first.wait(10)
        except Exception as error:  # pragma: no cover - reported below
            results["first"] = error
            first_claimed.set()
        finally:
            connections.close_all()

    def second() -> None:
        first_claimed.wait(10)
        try:
            connection.ensure_connection()
            backend_pids["second"] = connection.connection.info.backend_pid
            results["second"] = redeem_portal_session(secret=secret, now=NOW)
        except Exception as error:
            results["second"] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_claimed.wait(10)
    # Hold the first transaction open until the second really waits on its row lock.
    waited = False
    for _attempt in range(200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid = %s",
                [backend_pids.get("second", 0)],
            )
            if cursor.fetchone()[0] == 1:
                waited = True
                break
        threading.Event().wait(0.02)
    release_first.set()
    for thread in threads:
        thread.join(20)
    assert waited, "the second redemption never waited for the first one's lock"
    assert isinstance(results["first"], PortalSession)
    assert results["first"].user_id == anna.pk
    assert isinstance(results["second"], PortalSessionGone)
    assert PortalSession.objects.get().used_at == NOW


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_browsers_opening_one_link_at_once_get_one_session(settings: Any) -> None:
    _postgres_only()
    import threading

    from django.db import connections

    settings.SIMULATED_CLOCK = True
    anna, address = _make_link_committed()
    barrier = threading.Barrier(6)
    statuses: list[int] = []
    signed_in: list[str | None] = []
    lock = threading.Lock()

    def open_link() -> None:
        client = Client()
        try:
            barrier.wait(10)
            response = client.get(address)
            with lock:
                statuses.append(response.status_code)
                signed_in.append(signed_in_user_id(client))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_link) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [302, 410, 410, 410, 410, 410]
    assert sorted(signed_in, key=str) == [str(anna.pk), None, None, None, None, None]
