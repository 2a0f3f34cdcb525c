"""Organisations: provisioning, company name, purchase channel, VAT-number transfer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, OuterRef, Subquery
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.accounts.models import Permission, User
from abonnement.accounts.passwords import invite_locked
from abonnement.billing.validators import (
    clean_text,
    validate_country,
    validate_email_address,
    validate_language,
    validate_vat_number,
)
from abonnement.catalog.models import Availability, Edition, FeatureAvailability, license_product
from abonnement.catalog.selectors import price_book_on
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors, ValidationFailed
from abonnement.core.events import Event, emit
from abonnement.core.periods import PERIOD_MONTHS
from abonnement.core.templatetags.portal import day as format_day
from abonnement.core.templatetags.portal import number
from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryKind
from abonnement.history.services import record
from abonnement.organizations.models import Organization, PurchaseChannel, VatNumberChange

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_START_DAYS_AHEAD = 366
# A VAT-number transfer may be recorded up to a year before it takes effect.
MAX_VAT_DAYS_AHEAD = 366


def _collect(errors: FieldErrors, func: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return func(*args, **kwargs)
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
        return None


@dataclass(frozen=True)
class ChannelInput:
    type: str
    name: str = ""
    url: str = ""


def clean_purchase_channel(value: object, errors: FieldErrors) -> ChannelInput:
    if not isinstance(value, dict):
        errors.add("purchase_channel", _("Give the purchase channel as an object with a type."))
        return ChannelInput(PurchaseChannel.DIRECT)
    kind = value.get("type")
    if kind == PurchaseChannel.DIRECT:
        return ChannelInput(PurchaseChannel.DIRECT)
    if kind != PurchaseChannel.MARKETPLACE:
        errors.add("purchase_channel.type", _("Choose “direct” or “marketplace”."))
        return ChannelInput(PurchaseChannel.DIRECT)
    name = _collect(
        errors,
        clean_text,
        value.get("name") if isinstance(value.get("name"), str) else "",
        "purchase_channel.name",
        required=True,
        max_length=100,
    )
    url = value.get("url") or ""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["https", "http"])(url)
        if len(url) > 200:
            raise DjangoValidationError("too long")
    except DjangoValidationError:
        errors.add("purchase_channel.url", _("Enter the marketplace's web address (https://…)."))
    return ChannelInput(PurchaseChannel.MARKETPLACE, name or "", url)


@transaction.atomic(durable=True)
def provision_organization(
    *,
    name: object,
    vat_number: object,
    country: object,
    currency: object,
    language: object,
    edition: object,
    licenses: object,
    period_months: object,
    admin_email: object,
    admin_name: object,
    purchase_channel: object = None,
    start_date: date | None = None,
    actor: Actor,
    now: datetime,
    admin_password: str | None = None,
    admin_invite: bool = False,
) -> Organization:
    """Create a customer: organisation, administrator, subscription and its first order.

    With ``admin_invite`` the administrator is e-mailed a link to choose a password (after
    commit), in the organisation's language unless they chose their own."""
    from abonnement.subscriptions.services import create_subscription_locked

    permissions.require_vendor_or_staff(actor, billing_role=True)
    errors = FieldErrors()
    clean_name = _collect(
        errors,
        clean_text,
        name if isinstance(name, str) else "",
        "name",
        required=True,
        max_length=200,
    )
    clean_country = _collect(
        errors, validate_country, country if isinstance(country, str) else "", "country"
    )
    clean_vat = None
    if clean_country:
        clean_vat = _collect(
            errors,
            validate_vat_number,
            vat_number if isinstance(vat_number, str) else "",
            clean_country,
            "vat_number",
        )
    clean_language = _collect(
        errors, validate_language, language if isinstance(language, str) else "", "language"
    )
    edition_obj = Edition.objects.filter(code=edition).first() if isinstance(edition, str) else None
    if edition_obj is None:
        errors.add("edition", _("There is no edition “%(code)s”.") % {"code": edition})
    if (
        isinstance(licenses, bool)
        or not isinstance(licenses, int)
        or not 1 <= licenses <= settings.MAX_LICENSES
    ):
        errors.add(
            "licenses",
            _("Give a whole number of licences from 1 to %(max)s.")
            % {"max": number(settings.MAX_LICENSES)},
        )
    if (
        isinstance(period_months, bool)
        or not isinstance(period_months, int)  # 6.0 == 6 would pass the membership test
        or period_months not in PERIOD_MONTHS
    ):
        errors.add("period_months", _("Choose 1, 3, 6 or 12 months."))
    clean_email = _collect(
        errors,
        validate_email_address,
        admin_email if isinstance(admin_email, str) else "",
        "admin.email",
    )
    clean_admin = _collect(
        errors,
        clean_text,
        admin_name if isinstance(admin_name, str) else "",
        "admin.name",
        required=True,
        max_length=200,
    )
    if clean_email:
        # Stored lower-case (as ``create_user`` does), so the duplicate check must be too.
        clean_email = clean_email.lower()
        if User.objects.filter(email=clean_email).exists():
            errors.add("admin.email", _("A user with this e-mail address already exists."))
    channel = clean_purchase_channel(purchase_channel or {"type": "direct"}, errors)
    start = start_date or clock.business_date(now)
    if start > clock.business_date(now) + timedelta(days=MAX_START_DAYS_AHEAD):
        # Also keeps month arithmetic far from the end of the calendar (year 9999).
        errors.add("start_date", _("Give a start date within a year from today."))
    if not isinstance(currency, str) or len(currency) != 3:
        errors.add("currency", _("Give a three-letter currency code such as EUR."))
    elif edition_obj is not None:
        currency = currency.upper()  # prices are stored under the upper-case code
        book = _collect(errors, price_book_on, start, field="start_date")
        if book is not None and book.get(license_product(edition_obj.code), currency) is None:
            errors.add(
                "currency", _("There are no prices in %(currency)s.") % {"currency": currency}
            )
    errors.raise_if_any()
    assert edition_obj is not None and isinstance(licenses, int) and isinstance(period_months, int)
    assert isinstance(currency, str)

    organization = Organization.objects.create(
        name=clean_name,
        vat_number=str(clean_vat),
        country=clean_country,
        currency=currency.upper(),
        language=clean_language,
        purchase_channel=channel.type,
        marketplace_name=channel.name,
        marketplace_url=channel.url,
        created_at=now,
    )
    admin = User.objects.create_user(
        clean_email,
        admin_password,
        name=clean_admin,
        organization=organization,
        manage_subscription=True,
        manage_users=True,
        language=clean_language,
    )
    create_subscription_locked(
        organization=organization,
        edition=edition_obj,
        licenses=licenses,
        period_months=period_months,
        start_date=start,
        actor=actor,
        now=now,
    )
    included = FeatureAvailability.objects.filter(
        edition=edition_obj, availability=Availability.INCLUDED
    ).values_list("feature_id", flat=True)
    FeatureSwitch.objects.bulk_create(
        FeatureSwitch(organization=organization, feature_id=f, enabled=True, changed_at=now)
        for f in included
    )
    from abonnement.billing.models import BillingDetails

    BillingDetails.objects.create(
        organization=organization,
        contact_user=admin,
        street="",
        postal_code="",
        city="",
        country=organization.country,
        invoice_language=clean_language,
        updated_at=now,
    )
    record(
        organization_id=organization.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.ORGANIZATION,
        action="organization_created",
        subject=organization.name,
        after={
            "name": organization.name,
            "edition": edition_obj.code,
            "licenses": licenses,
            "period_months": period_months,
            "purchase_channel": channel.type,
            "admin": clean_email,
        },
    )
    if admin_invite:
        invite_locked(user=admin, actor=actor, now=now)
    emit(Event("organization.created", str(organization.pk), {}, at=now))
    return organization


@transaction.atomic(durable=True)
def rename_organization(
    *, organization: Organization, name: object, actor: Actor, now: datetime
) -> Organization:
    """Company settings: the name shown on invoices from now on."""
    clean = clean_text(name if isinstance(name, str) else "", "name", required=True, max_length=200)
    permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
    locked = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    _rename_locked(locked, clean, actor=actor, now=now)
    return locked


def _rename_locked(locked: Organization, clean: str, *, actor: Actor, now: datetime) -> None:
    if locked.name == clean:
        return
    before = locked.name
    locked.name = clean
    locked.save(update_fields=["name"])
    record(
        organization_id=locked.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.ORGANIZATION,
        action="name_changed",
        subject=clean,
        before={"name": before},
        after={"name": clean},
    )
    emit(Event("subscription.updated", str(locked.pk), {}, at=now))


@transaction.atomic(durable=True)
def set_purchase_channel(
    *, organization: Organization, channel: object, actor: Actor, now: datetime
) -> Organization:
    """Direct or a named partner marketplace (vendor and customer service only)."""
    permissions.require_vendor_or_staff(actor, billing_role=True)
    errors = FieldErrors()
    clean = clean_purchase_channel(channel, errors)
    errors.raise_if_any()
    locked = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    _set_channel_locked(locked, clean, actor=actor, now=now)
    return locked


def _set_channel_locked(
    locked: Organization, clean: ChannelInput, *, actor: Actor, now: datetime
) -> None:
    before = {
        "type": locked.purchase_channel,
        "name": locked.marketplace_name,
        "url": locked.marketplace_url,
    }
    after = {"type": clean.type, "name": clean.name, "url": clean.url}
    if before == after:
        return
    locked.purchase_channel = clean.type
    locked.marketplace_name = clean.name
    locked.marketplace_url = clean.url
    locked.save(update_fields=["purchase_channel", "marketplace_name", "marketplace_url"])
    record(
        organization_id=locked.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.ORGANIZATION,
        action="purchase_channel_changed",
        before=before,
        after=after,
    )
    emit(Event("subscription.updated", str(locked.pk), {}, at=now))


UNCHANGED: Any = object()


@transaction.atomic(durable=True)
def update_organization(
    *,
    organization: Organization,
    name: object = UNCHANGED,
    purchase_channel: object = UNCHANGED,
    actor: Actor,
    now: datetime,
) -> Organization:
    """Change the name and/or the purchase channel together, or nothing (Rule 14).

    The name: organisation administrators too; the purchase channel: vendor and customer
    service only. Every field is checked before anything is saved.
    """
    errors = FieldErrors()
    clean_name = None
    if name is not UNCHANGED:
        clean_name = _collect(
            errors,
            clean_text,
            name if isinstance(name, str) else "",
            "name",
            required=True,
            max_length=200,
        )
    channel = None
    if purchase_channel is not UNCHANGED:
        channel = clean_purchase_channel(purchase_channel, errors)
    errors.raise_if_any()
    if clean_name is not None:
        permissions.require(actor, organization, Permission.MANAGE_SUBSCRIPTION)
    if channel is not None:
        permissions.require_vendor_or_staff(actor, billing_role=True)
    locked = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    if clean_name is not None:
        _rename_locked(locked, clean_name, actor=actor, now=now)
    if channel is not None:
        _set_channel_locked(locked, channel, actor=actor, now=now)
    return locked


@transaction.atomic(durable=True)
def transfer_vat_number(
    *,
    organization: Organization,
    vat_number: object,
    effective_date: object,
    document: object,
    document_name: object,
    actor: Actor,
    now: datetime,
) -> VatNumberChange:
    """Record a VAT-number change with its contract-transfer document (customer service)."""
    permissions.require_vendor_or_staff(actor, billing_role=True)
    errors = FieldErrors()
    clean_vat = _collect(
        errors,
        validate_vat_number,
        vat_number if isinstance(vat_number, str) else "",
        organization.country,
        "vat_number",
    )
    if not isinstance(effective_date, date):
        errors.add("effective_date", _("Give the date from which the new number applies."))
    if not isinstance(document, bytes | bytearray) or not document:
        errors.add("contract_transfer_document", _("Attach the contract transfer document (PDF)."))
    elif not bytes(document).startswith(b"%PDF-"):
        errors.add("contract_transfer_document", _("The contract transfer document must be a PDF."))
    elif len(document) > MAX_DOCUMENT_BYTES:
        errors.add("contract_transfer_document", _("The document is larger than 10 MB."))
    clean_doc_name = _collect(
        errors,
        clean_text,
        document_name if isinstance(document_name, str) else "",
        "document_name",
        required=True,
        max_length=200,
    )
    today = clock.business_date(now)
    if isinstance(effective_date, date):
        first = first_period_start(organization)
        if effective_date < first:
            errors.add(
                "effective_date",
                _("The effective date cannot be before the organisation's first period (%(date)s).")
                % {"date": format_day(first)},
            )
        elif effective_date > today + timedelta(days=MAX_VAT_DAYS_AHEAD):
            errors.add("effective_date", _("Give an effective date within a year from today."))
    replaced = vat_number_on(
        organization, effective_date if isinstance(effective_date, date) else today
    )
    if clean_vat and clean_vat == replaced:
        errors.add("vat_number", _("This is already the organisation's VAT number."))
    errors.raise_if_any()
    assert isinstance(effective_date, date) and isinstance(document, bytes | bytearray)
    locked = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    replaced = vat_number_on(locked, effective_date)
    if clean_vat == replaced:  # another transfer was recorded meanwhile
        raise ValidationFailed.single(
            "vat_number", _("This is already the organisation's VAT number.")
        )
    change = VatNumberChange.objects.create(
        organization=locked,
        old_vat_number=replaced,
        new_vat_number=clean_vat,
        effective_date=effective_date,
        document_name=clean_doc_name,
        document=bytes(document),
        recorded_at=now,
        recorded_by=actor.name,
    )
    # The stored number is the one in force today: a transfer dated later leaves it alone
    # until its day comes (``apply_due_vat_numbers``); invoices read it by their own date.
    in_force = vat_number_on(locked, today)
    if locked.vat_number != in_force:
        locked.vat_number = in_force
        locked.save(update_fields=["vat_number"])
    record(
        organization_id=locked.pk,
        actor=actor,
        now=now,
        kind=HistoryKind.BILLING,
        action="vat_number_transferred",
        subject=clean_vat,
        before={"vat_number": change.old_vat_number},
        after={
            "vat_number": clean_vat,
            "effective_date": effective_date.isoformat(),
            "document": clean_doc_name,
        },
    )
    return change


def first_period_start(organization: Organization) -> date:
    """The first day the organisation was billed for (its first order's period start), or
    the day it was created if it has no order."""
    first = organization.orders.aggregate(first=Min("period_start"))["first"]
    created = clock.business_date(organization.created_at)
    return min(first, created) if first is not None else created


def vat_number_on(organization: Organization, day: date) -> str:
    """The VAT number in force on ``day``.

    It is the new number of the most recently *recorded* transfer that is effective on or
    before ``day``; before every transfer's date, the number the organisation started with
    (the old number of its first recorded transfer). A later recording is the newer word of
    customer service, so it supersedes an earlier-recorded one whatever their dates: "A → B
    from June", then "B → C from March" means A until March and C from then on, never B
    again. Invoices snapshot this for their date; ``Organization.vat_number`` holds it for
    today (see ``apply_due_vat_numbers``).
    """
    changes = list(organization.vat_number_changes.order_by("recorded_at", "id"))
    if not changes:
        return organization.vat_number
    current = changes[0].old_vat_number
    for change in changes:
        if change.effective_date <= day:
            current = change.new_vat_number
    return current


def apply_due_vat_numbers(*, now: datetime) -> int:
    """Make ``Organization.vat_number`` the number in force today for every organisation
    with a transfer effective by today; returns how many changed.

    A transfer dated in the future is recorded at once but applies on its day: the worker's
    round calls this, so the portal, the API and the back office show the new number from
    that day (invoices never depend on it: they read ``vat_number_on`` for their date).
    Idempotent and safe to run concurrently (each organisation is updated under its lock).
    """
    today = clock.business_date(now)
    # Only organisations whose stored number differs from the one in force (the new number
    # of the latest-recorded transfer effective by today, as ``vat_number_on`` reads it):
    # one query, however many transfers were ever recorded.
    latest = (
        VatNumberChange.objects.filter(organization=OuterRef("pk"), effective_date__lte=today)
        .order_by("-recorded_at", "-id")
        .values("new_vat_number")[:1]
    )
    candidates = (
        Organization.objects.annotate(in_force=Subquery(latest))
        .filter(in_force__isnull=False)
        .exclude(vat_number=F("in_force"))
        .values_list("pk", flat=True)
    )
    changed = 0
    for organization_id in list(candidates):
        with transaction.atomic(durable=True):
            locked = Organization.objects.select_for_update(no_key=True).get(pk=organization_id)
            in_force = vat_number_on(locked, today)
            if locked.vat_number != in_force:
                locked.vat_number = in_force
                locked.save(update_fields=["vat_number"])
                changed += 1
    return changed
