"""Who gets into every back-office page and action: anonymous, a customer user, support
staff and billing staff. A refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from abonnement.accounts.models import User
from abonnement.history.models import HistoryEntry
from abonnement.organizations.models import Organization
from abonnement.organizations.services import transfer_vat_number
from abonnement.subscriptions.models import EditionChangeRequest, Subscription
from abonnement.subscriptions.services import request_edition_change, schedule_edition_change
from tests.backoffice.conftest import make_staff, signed_in
from tests.conftest import NOW, VENDOR, admin_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% contract transfer\n"


@dataclass(frozen=True)
class World:
    organization: Organization
    request: EditionChangeRequest
    vat_change_id: int


@pytest.fixture
def world(org: Any) -> World:
    schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
    request = request_edition_change(
        organization=org, edition="enterprise", message="We grow.", actor=admin_of(org), now=NOW
    )
    change = transfer_vat_number(
        organization=org,
        vat_number="FI12345671",
        effective_date=date(2027, 2, 1),
        document=PDF,
        document_name="transfer.pdf",
        actor=VENDOR,
        now=NOW,
    )
    org.refresh_from_db()
    return World(organization=org, request=request, vat_change_id=change.pk)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    billing_only: bool

    def url(self, world: World) -> str:
        org = world.organization.pk
        return {
            "home": reverse("backoffice:home"),
            "organization": reverse("backoffice:organization", args=[org]),
            "edition": reverse("backoffice:edition", args=[org]),
            "edition_cancel": reverse("backoffice:edition_cancel", args=[org]),
            "purchase_channel": reverse("backoffice:purchase_channel", args=[org]),
            "vat_number": reverse("backoffice:vat_number", args=[org]),
            "vat_document": reverse("backoffice:vat_document", args=[org, world.vat_change_id]),
            "edition_requests": reverse("backoffice:edition_requests"),
            "edition_request": reverse("backoffice:edition_request", args=[world.request.pk]),
            "feedback": reverse("backoffice:feedback"),
        }[self.name]

    def data(self) -> dict[str, Any]:
        return {
            "edition": {"edition": "enterprise"},
            "edition_cancel": {},
            "purchase_channel": {
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://market.example/apps/abonnement",
            },
            "vat_number": {
                "vat_number": "FI20774740",
                "effective_date": "2027-03-01",
                "document": SimpleUploadedFile("second.pdf", PDF, "application/pdf"),
            },
            "edition_request": {"decision": "schedule", "response": "Done."},
        }.get(self.name, {})

    @property
    def success(self) -> int:
        return 200 if self.method == "get" else 302


ENDPOINTS = [
    Endpoint("home", "get", billing_only=False),
    Endpoint("organization", "get", billing_only=False),
    Endpoint("vat_document", "get", billing_only=False),
    Endpoint("edition_requests", "get", billing_only=False),
    Endpoint("edition_request", "get", billing_only=False),
    Endpoint("edition_request", "post", billing_only=False),
    Endpoint("feedback", "get", billing_only=False),
    Endpoint("edition", "get", billing_only=True),
    Endpoint("edition", "post", billing_only=True),
    Endpoint("edition_cancel", "post", billing_only=True),
    Endpoint("purchase_channel", "get", billing_only=True),
    Endpoint("purchase_channel", "post", billing_only=True),
    Endpoint("vat_number", "get", billing_only=True),
    Endpoint("vat_number", "post", billing_only=True),
]


def snapshot(world: World) -> tuple[Any, ...]:
    org = Organization.objects.get(pk=world.organization.pk)
    sub = Subscription.objects.get(organization=org)
    return (
        HistoryEntry.objects.count(),
        sub.edition_id,
        sub.next_edition_id,
        org.purchase_channel,
        org.vat_number,
        EditionChangeRequest.objects.get(pk=world.request.pk).status,
        org.vat_number_changes.count(),
    )


def who(role: str, world: World) -> User | None:
    if role == "anonymous":
        return None
    if role == "customer":
        return User.objects.get(email="admin@testi.example")
    return make_staff(role)


def expected(endpoint: Endpoint, role: str) -> int:
    if role == "anonymous":
        return 302
    if role in ("customer", "norole") or (endpoint.billing_only and role == "support"):
        return 403
    return endpoint.success


@pytest.mark.parametrize("role", ["anonymous", "customer", "norole", "support", "billing"])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method}-{e.name}")
def test_access_matrix(world: World, endpoint: Endpoint, role: str) -> None:
    client = signed_in(who("" if role == "norole" else role, world))
    before = snapshot(world)
    url = endpoint.url(world)
    response = client.post(url, endpoint.data()) if endpoint.method == "post" else client.get(url)
    status = expected(endpoint, role)
    assert response.status_code == status, response.content[:500]
    if role == "anonymous":
        assert response["Location"] == f"{reverse('backoffice:sign_in')}?next={url}"
    acted = endpoint.method == "post" and role != "anonymous" and status == endpoint.success
    assert (snapshot(world) != before) is acted


def test_unknown_organization_is_not_found(billing_client: Any, org: Any) -> None:
    url = reverse("backoffice:organization", args=["00000000-0000-4000-8000-000000000000"])
    assert billing_client.get(url).status_code == 404


def test_unknown_request_is_not_found(support_client: Any, org: Any) -> None:
    url = reverse("backoffice:edition_request", args=[999999])
    assert support_client.get(url).status_code == 404
    assert support_client.post(url, {"decision": "decline", "response": "x"}).status_code == 404


def test_another_organisations_vat_document_is_not_found(support_client: Any, world: World) -> None:
    from tests.conftest import make_organization

    other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
    url = reverse("backoffice:vat_document", args=[other.pk, world.vat_change_id])
    assert support_client.get(url).status_code == 404


class TestSignIn:
    url = "/backoffice/sign-in/"

    def test_staff_signs_in_and_lands_on_the_search(
        self, support_user: User, settings: Any
    ) -> None:
        # The password alone, as the demo runs (ABONNEMENT_STAFF_MFA=off); with the second
        # factor on, see tests/backoffice/test_mfa.py.
        settings.STAFF_MFA = False
        client = signed_in(None)
        response = client.post(
            self.url, {"username": "support@vendor.example", "password": "staff-password-2026"}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:home")
        assert client.get(reverse("backoffice:home")).status_code == 200

    def test_a_customer_with_the_right_password_is_refused(self, org: Any) -> None:
        user = User.objects.get(email="admin@testi.example")
        user.set_password("customer-password-2026")
        user.save(update_fields=["password"])
        client = signed_in(None)
        response = client.post(
            self.url, {"username": "admin@testi.example", "password": "customer-password-2026"}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert "This sign-in is for the vendor&#x27;s customer service." in page
        assert "_auth_user_id" not in client.session

    def test_staff_without_a_role_is_refused(self, db: Any) -> None:
        make_staff("")
        client = signed_in(None)
        response = client.post(
            self.url, {"username": "norole@vendor.example", "password": "staff-password-2026"}
        )
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    def test_wrong_password(self, support_user: User) -> None:
        client = signed_in(None)
        response = client.post(self.url, {"username": "support@vendor.example", "password": "x"})
        assert response.status_code == 200
        assert "The e-mail address or password is not right." in response.content.decode()

    def test_the_admins_sign_in_counts_failures_with_the_back_offices(
        self, support_user: User, settings: Any
    ) -> None:
        settings.SIGN_IN_LIMIT_PER_ACCOUNT = 3
        staff = {"username": "support@vendor.example"}
        signed_in(None).post(self.url, {**staff, "password": "wrong"})
        for _attempt in range(2):
            page = signed_in(None).post("/admin/login/", {**staff, "password": "wrong"})
            assert page.status_code == 200
        # The right password now waits, on the admin's page as on the back office's.
        for url in ("/admin/login/", self.url):
            client = signed_in(None)
            page = client.post(url, {**staff, "password": "staff-password-2026"})
            assert "Too many failed sign-in attempts. Wait 15 minutes" in page.content.decode()
            assert "_auth_user_id" not in client.session

    def test_the_admin_still_admits_staff_with_the_right_password(
        self, support_user: User, settings: Any
    ) -> None:
        settings.STAFF_MFA = False  # with it on: tests/backoffice/test_mfa.py
        client = signed_in(None)
        page = client.post(
            "/admin/login/?next=/admin/",
            {"username": "support@vendor.example", "password": "staff-password-2026"},
        )
        assert (page.status_code, page["Location"]) == (302, "/admin/")
        assert client.get("/admin/").status_code == 200

    def test_sign_out_needs_post_and_ends_the_session(self, support_client: Any) -> None:
        assert support_client.get("/backoffice/sign-out/").status_code == 405
        response = support_client.post("/backoffice/sign-out/")
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:sign_in")
        assert support_client.get(reverse("backoffice:home")).status_code == 302


class TestStaffInThePortal:
    """Staff have no organisation: the customer portal gives them nothing to act on."""

    def test_portal_pages_refuse_staff(self, billing_client: Any, org: Any) -> None:
        assert billing_client.get("/settings/subscription/").status_code == 403
        assert billing_client.get("/settings/users/").status_code == 403

    def test_a_portal_licence_change_by_staff_changes_nothing(
        self, billing_client: Any, org: Any
    ) -> None:
        before = (Subscription.objects.get(organization=org).licenses, HistoryEntry.objects.count())
        response = billing_client.post("/settings/subscription/licences/", {"licenses": "20"})
        assert response.status_code == 403
        after = (Subscription.objects.get(organization=org).licenses, HistoryEntry.objects.count())
        assert after == before
