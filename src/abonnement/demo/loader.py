"""The demo: a realistic catalogue and four organisations in telling states.

Every state is made by calling the real services (provisioning, licence changes, users,
features, billing details, requests), so the demo's history reads like a real one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from django.conf import settings
from django.db import transaction

from abonnement.catalog.models import (
    Availability,
    Edition,
    Feature,
    FeatureAvailability,
    Price,
    PriceList,
    StoragePack,
    add_on_product,
    license_product,
    storage_product,
)
from abonnement.core import clock
from abonnement.core.actor import Actor

DEMO_PASSWORD = "demo-password-2026"

EDITIONS = [
    # code, name, storage GB, EUR, SEK
    ("essential", "Essential", 50, "9.00", "99.00"),
    ("professional", "Professional", 200, "19.00", "209.00"),
    ("enterprise", "Enterprise", 1000, "34.00", "375.00"),
]

# code, name, kind, requires, {edition: availability}, add-on EUR, SEK
FEATURES: list[tuple[str, str, str, list[str], dict[str, str], str | None, str | None]] = [
    (
        "projects",
        "Projects",
        "feature",
        [],
        {"essential": "included", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "time_tracking",
        "Time tracking",
        "feature",
        [],
        {"essential": "included", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "invoicing",
        "Customer invoicing",
        "feature",
        [],
        {"essential": "add_on", "professional": "included", "enterprise": "included"},
        "6.00",
        "66.00",
    ),
    (
        "resource_planning",
        "Resource planning",
        "feature",
        ["projects"],
        {"essential": "unavailable", "professional": "add_on", "enterprise": "included"},
        "12.00",
        "132.00",
    ),
    (
        "advanced_reports",
        "Advanced reports",
        "feature",
        [],
        {"essential": "unavailable", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "audit_log",
        "Audit log",
        "feature",
        [],
        {"essential": "unavailable", "professional": "add_on", "enterprise": "included"},
        "4.00",
        "44.00",
    ),
    (
        "sso",
        "Single sign-on (SAML)",
        "feature",
        [],
        {"essential": "unavailable", "professional": "add_on", "enterprise": "included"},
        "8.00",
        "88.00",
    ),
    (
        "scim",
        "User provisioning (SCIM)",
        "feature",
        ["sso"],
        {"essential": "unavailable", "professional": "unavailable", "enterprise": "included"},
        None,
        None,
    ),
    (
        "slack",
        "Slack",
        "integration",
        [],
        {"essential": "included", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "microsoft_teams",
        "Microsoft Teams",
        "integration",
        [],
        {"essential": "included", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "google_calendar",
        "Google Calendar",
        "integration",
        [],
        {"essential": "included", "professional": "included", "enterprise": "included"},
        None,
        None,
    ),
    (
        "netvisor",
        "Netvisor accounting",
        "integration",
        [],
        {"essential": "add_on", "professional": "add_on", "enterprise": "included"},
        "10.00",
        "110.00",
    ),
    (
        "salesforce",
        "Salesforce",
        "integration",
        [],
        {"essential": "unavailable", "professional": "add_on", "enterprise": "included"},
        "15.00",
        "165.00",
    ),
    (
        "power_bi",
        "Power BI",
        "integration",
        ["advanced_reports"],
        {"essential": "unavailable", "professional": "add_on", "enterprise": "included"},
        "9.00",
        "99.00",
    ),
]

STORAGE_PACKS = [("storage-100", "100 GB storage pack", 100, "5.00", "55.00")]

# code → English description, then the Finnish and Dutch name and description.
FEATURE_TEXTS: dict[str, tuple[str, dict[str, dict[str, str]]]] = {
    "projects": (
        "Plan work as projects with tasks, budgets and deadlines.",
        {
            "fi": {
                "name": "Projektit",
                "description": "Suunnittele työ projekteina, joilla on tehtävät, budjetit ja "
                "määräajat.",
            },
            "nl": {
                "name": "Projecten",
                "description": "Plan werk in projecten met taken, budgetten en deadlines.",
            },
        },
    ),
    "time_tracking": (
        "Record working hours against projects and tasks.",
        {
            "fi": {
                "name": "Työajanseuranta",
                "description": "Kirjaa työtunnit projekteille ja tehtäville.",
            },
            "nl": {
                "name": "Urenregistratie",
                "description": "Registreer gewerkte uren op projecten en taken.",
            },
        },
    ),
    "invoicing": (
        "Invoice your customers for hours and expenses.",
        {
            "fi": {
                "name": "Asiakaslaskutus",
                "description": "Laskuta asiakkaitasi tehdyistä tunneista ja kuluista.",
            },
            "nl": {
                "name": "Klantfacturatie",
                "description": "Factureer uw klanten voor uren en onkosten.",
            },
        },
    ),
    "resource_planning": (
        "See who is free and assign people to projects.",
        {
            "fi": {
                "name": "Resurssisuunnittelu",
                "description": "Näe, kuka on vapaana, ja sijoita ihmiset projekteihin.",
            },
            "nl": {
                "name": "Capaciteitsplanning",
                "description": "Zie wie er beschikbaar is en deel mensen in op projecten.",
            },
        },
    ),
    "advanced_reports": (
        "Your own reports on hours, budgets and profitability.",
        {
            "fi": {
                "name": "Laajat raportit",
                "description": "Omat raportit tunneista, budjeteista ja kannattavuudesta.",
            },
            "nl": {
                "name": "Uitgebreide rapportages",
                "description": "Eigen rapportages over uren, budgetten en winstgevendheid.",
            },
        },
    ),
    "audit_log": (
        "A record of who changed what, and when.",
        {
            "fi": {
                "name": "Muutosloki",
                "description": "Kirjaus siitä, kuka muutti mitä ja milloin.",
            },
            "nl": {
                "name": "Auditlog",
                "description": "Een overzicht van wie wat wanneer heeft gewijzigd.",
            },
        },
    ),
    "sso": (
        "Sign in through your organisation's identity provider.",
        {
            "fi": {
                "name": "Kertakirjautuminen (SAML)",
                "description": "Kirjaudu sisään organisaatiosi tunnistuspalvelun kautta.",
            },
            "nl": {
                "name": "Eenmalige aanmelding (SAML)",
                "description": "Meld u aan via de identiteitsprovider van uw organisatie.",
            },
        },
    ),
    "scim": (
        "Add and remove users automatically from your directory.",
        {
            "fi": {
                "name": "Käyttäjien automaattinen ylläpito (SCIM)",
                "description": "Lisää ja poista käyttäjät automaattisesti hakemistostanne.",
            },
            "nl": {
                "name": "Automatisch gebruikersbeheer (SCIM)",
                "description": "Voeg gebruikers automatisch toe en verwijder ze vanuit uw "
                "directory.",
            },
        },
    ),
    "slack": (
        "Notifications and approvals in your Slack channels.",
        {
            "fi": {
                "name": "Slack",
                "description": "Ilmoitukset ja hyväksynnät Slack-kanavillanne.",
            },
            "nl": {
                "name": "Slack",
                "description": "Meldingen en goedkeuringen in uw Slack-kanalen.",
            },
        },
    ),
    "microsoft_teams": (
        "Notifications and approvals in Microsoft Teams.",
        {
            "fi": {
                "name": "Microsoft Teams",
                "description": "Ilmoitukset ja hyväksynnät Microsoft Teamsissa.",
            },
            "nl": {
                "name": "Microsoft Teams",
                "description": "Meldingen en goedkeuringen in Microsoft Teams.",
            },
        },
    ),
    "google_calendar": (
        "Deadlines and bookings in Google Calendar.",
        {
            "fi": {
                "name": "Google Kalenteri",
                "description": "Määräajat ja varaukset Google Kalenterissa.",
            },
            "nl": {
                "name": "Google Agenda",
                "description": "Deadlines en boekingen in Google Agenda.",
            },
        },
    ),
    "netvisor": (
        "Invoices and hours straight to Netvisor accounting.",
        {
            "fi": {
                "name": "Netvisor-kirjanpito",
                "description": "Laskut ja tunnit suoraan Netvisor-kirjanpitoon.",
            },
            "nl": {
                "name": "Netvisor-boekhouding",
                "description": "Facturen en uren rechtstreeks naar de Netvisor-boekhouding.",
            },
        },
    ),
    "salesforce": (
        "Customers and deals kept in step with Salesforce.",
        {
            "fi": {
                "name": "Salesforce",
                "description": "Asiakkaat ja kaupat pysyvät ajan tasalla Salesforcen kanssa.",
            },
            "nl": {
                "name": "Salesforce",
                "description": "Klanten en deals blijven gelijk met Salesforce.",
            },
        },
    ),
    "power_bi": (
        "Analyse your reports in Microsoft Power BI.",
        {
            "fi": {
                "name": "Power BI",
                "description": "Analysoi raporttejasi Microsoft Power BI:ssä.",
            },
            "nl": {
                "name": "Power BI",
                "description": "Analyseer uw rapportages in Microsoft Power BI.",
            },
        },
    ),
}

# code → the Finnish and Dutch name.
STORAGE_PACK_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "storage-100": {
        "fi": {"name": "100 Gt:n tallennustilapaketti"},
        "nl": {"name": "Opslagpakket van 100 GB"},
    },
}

STAFF = [
    ("support@abonnement.example", "Sanna Support", "support"),
    ("billing@abonnement.example", "Bert Billing", "billing"),
]


def load_catalog() -> None:
    """The demo catalogue: three editions, 8 features, 6 integrations, EUR and SEK prices."""
    editions = {}
    for position, (code, name, gb, _eur, _sek) in enumerate(EDITIONS):
        editions[code] = Edition.objects.create(
            code=code, name=name, included_storage_gb=gb, position=position
        )
    features = {}
    for position, (code, name, kind, _req, _avail, _f_eur, _f_sek) in enumerate(FEATURES):
        description, translations = FEATURE_TEXTS[code]
        features[code] = Feature.objects.create(
            code=code,
            name=name,
            kind=kind,
            description=description,
            translations=translations,
            position=position,
        )
    for code, _name, _kind, requires, availability, _a_eur, _a_sek in FEATURES:
        features[code].requires.set([features[r] for r in requires])
        for edition_code, offer in availability.items():
            if offer != Availability.UNAVAILABLE:
                FeatureAvailability.objects.create(
                    edition=editions[edition_code], feature=features[code], availability=offer
                )
    packs = {}
    for position, (code, name, gb, _eur, _sek) in enumerate(STORAGE_PACKS):
        packs[code] = StoragePack.objects.create(
            code=code,
            name=name,
            gb=gb,
            position=position,
            translations=STORAGE_PACK_TEXTS[code],
        )

    def prices(price_list: PriceList, factor: Decimal) -> None:
        rows: list[tuple[str, str, str]] = []
        for code, _name, _gb, eur, sek in EDITIONS:
            rows += [(license_product(code), "EUR", eur), (license_product(code), "SEK", sek)]
        for feature_code, _name, _kind, _req, _avail, add_on_eur, add_on_sek in FEATURES:
            if add_on_eur and add_on_sek:
                rows += [
                    (add_on_product(feature_code), "EUR", add_on_eur),
                    (add_on_product(feature_code), "SEK", add_on_sek),
                ]
        for code, _name, _gb, eur, sek in STORAGE_PACKS:
            rows += [(storage_product(code), "EUR", eur), (storage_product(code), "SEK", sek)]
        Price.objects.bulk_create(
            Price(
                price_list=price_list,
                product=product,
                currency=currency,
                monthly_amount=(Decimal(amount) * factor).quantize(Decimal("0.01")),
            )
            for product, currency, amount in rows
        )

    prices(
        PriceList.objects.create(name="2024 prices", effective_from=date(2024, 1, 1)), Decimal(1)
    )
    # A price rise announced for 2027: it applies from each subscription's next period (Rule 7).
    prices(
        PriceList.objects.create(name="2027 prices", effective_from=date(2027, 1, 1)),
        Decimal("1.05"),
    )


def _vendor() -> Actor:
    return Actor.vendor_token("Demo provisioning")


def load_demo(*, stdout: TextIO) -> bool:
    """Load everything unless the database already has organisations. Returns True if loaded."""
    from abonnement.accounts.models import User
    from abonnement.organizations.models import Organization

    if Organization.objects.exists():
        stdout.write("Demo data already present; leaving the database as it is.\n")
        return False
    now = clock.now()
    if clock.simulated():
        from abonnement.core.models import SimulatedClock

        SimulatedClock.objects.get_or_create(pk=1, defaults={"now": now})
    with transaction.atomic():
        if not Edition.objects.exists():
            load_catalog()
        for email, name, role in STAFF:
            User.objects.create_user(
                email, DEMO_PASSWORD, name=name, is_staff=True, staff_role=role
            )
    _load_organizations(now)
    stdout.write("Demo data loaded.\n")
    return True


def _months_ago(now: datetime, months: int, day: int) -> date:
    from abonnement.core.periods import add_months

    today = clock.business_date(now)
    return add_months(date(today.year, today.month, 1), -months, anchor_day=day)


def _load_organizations(now: datetime) -> None:
    from abonnement.accounts.services import create_user, deactivate_user, update_user
    from abonnement.billing.services import update_billing_details
    from abonnement.features.services import set_feature_enabled
    from abonnement.organizations.models import Organization
    from abonnement.organizations.services import provision_organization
    from abonnement.subscriptions.rollover import roll_over_subscriptions
    from abonnement.subscriptions.services import (
        request_edition_change,
        set_license_count,
        set_storage_packs,
    )

    vendor = _vendor()
    earlier = now - timedelta(days=1)

    # 1. A Finnish company on 6-month periods, e-invoicing, with a scheduled licence removal.
    fi = provision_organization(
        name="Kaamos Consulting Oy",
        vat_number="FI26537287",
        country="FI",
        currency="EUR",
        language="fi",
        edition="professional",
        licenses=12,
        period_months=6,
        start_date=_months_ago(now, 8, 15),
        admin_email="aino@kaamos.example",
        admin_name="Aino Virtanen",
        actor=vendor,
        now=earlier,
        admin_password=DEMO_PASSWORD,
    )
    # 2. A Dutch company on monthly periods with a Dutch-speaking admin.
    nl = provision_organization(
        name="Grachtenwerk B.V.",
        vat_number="NL004495445B01",
        country="NL",
        currency="EUR",
        language="nl",
        edition="essential",
        licenses=5,
        period_months=1,
        start_date=_months_ago(now, 3, 31),
        admin_email="daan@grachtenwerk.example",
        admin_name="Daan de Vries",
        actor=vendor,
        now=earlier,
        admin_password=DEMO_PASSWORD,
    )
    # 3. Bought through a partner marketplace.
    mp = provision_organization(
        name="Fjällbyrån AB",
        vat_number="SE556188840401",
        country="SE",
        currency="SEK",
        language="en",
        edition="professional",
        licenses=8,
        period_months=1,
        start_date=_months_ago(now, 2, 1),
        admin_email="elsa@fjallbyran.example",
        admin_name="Elsa Lindqvist",
        actor=vendor,
        now=earlier,
        admin_password=DEMO_PASSWORD,
        purchase_channel={
            "type": "marketplace",
            "name": "Nordic SaaS Marketplace",
            "url": "https://marketplace.example/subscriptions",
        },
    )
    # 4. Annual periods with an open edition-change request.
    an = provision_organization(
        name="Polaris Engineering Oy",
        vat_number="FI15726429",
        country="FI",
        currency="EUR",
        language="en",
        edition="essential",
        licenses=20,
        period_months=12,
        start_date=_months_ago(now, 4, 1),
        admin_email="olli@polaris.example",
        admin_name="Olli Korhonen",
        actor=vendor,
        now=earlier,
        admin_password=DEMO_PASSWORD,
    )
    roll_over_subscriptions(now=earlier)

    def portal(org: Organization, email: str) -> Actor:
        return Actor.portal(User.objects.get(email=email))

    from abonnement.accounts.models import User

    # Kaamos: users, one inactive; storage; add-on; e-invoicing; a scheduled removal.
    aino = portal(fi, "aino@kaamos.example")
    for email, name, perms in [
        ("mikko@kaamos.example", "Mikko Nieminen", ["manage_users"]),
        ("leena@kaamos.example", "Leena Mäkinen", []),
        ("jussi@kaamos.example", "Jussi Laine", []),
        ("sari@kaamos.example", "Sari Heikkinen", ["manage_subscription"]),
        ("petri@kaamos.example", "Petri Salo", []),
        ("hanna@kaamos.example", "Hanna Koskinen", []),
        ("timo@kaamos.example", "Timo Järvinen", []),
    ]:
        create_user(
            organization=fi,
            email=email,
            name=name,
            permissions_granted=perms,
            actor=aino,
            now=now,
            password=DEMO_PASSWORD,
        )
    deactivate_user(
        organization=fi,
        user_id=User.objects.get(email="timo@kaamos.example").pk,
        license="keep",
        actor=aino,
        now=now,
    )
    set_license_count(organization=fi, licenses=14, actor=aino, now=now)
    set_storage_packs(organization=fi, extra_packs=2, actor=aino, now=now)
    set_feature_enabled(organization=fi, code="audit_log", enabled=True, actor=aino, now=now)
    set_feature_enabled(
        organization=fi,
        code="slack",
        enabled=False,
        actor=aino,
        now=now,
        reason="We use Microsoft Teams",
    )
    set_license_count(organization=fi, licenses=10, actor=aino, now=now)
    update_billing_details(
        organization=fi,
        actor=aino,
        now=now,
        data={
            "contact": {"user_id": User.objects.get(email="sari@kaamos.example").pk},
            "cc": ["laskut@tilitoimisto.example"],
            "address": {
                "street": "Aleksanterinkatu 15 B",
                "postal_code": "00100",
                "city": "Helsinki",
                "country": "FI",
            },
            "reference": "Kustannuspaikka 410",
            "invoice_language": "fi",
            "e_invoicing": {
                "enabled": True,
                "address": "003726537287",
                "operator_code": "003723327487",
            },
        },
    )

    # Grachtenwerk: Dutch admin, monthly, a user manager and an inactive user.
    daan = portal(nl, "daan@grachtenwerk.example")
    for email, name, perms in [
        ("sanne@grachtenwerk.example", "Sanne Bakker", ["manage_users"]),
        ("joris@grachtenwerk.example", "Joris Visser", []),
        ("femke@grachtenwerk.example", "Femke Smit", []),
    ]:
        create_user(
            organization=nl,
            email=email,
            name=name,
            permissions_granted=perms,
            actor=daan,
            now=now,
            password=DEMO_PASSWORD,
        )
    deactivate_user(
        organization=nl,
        user_id=User.objects.get(email="femke@grachtenwerk.example").pk,
        license="remove",
        actor=daan,
        now=now,
    )
    update_user(
        organization=nl,
        user_id=User.objects.get(email="joris@grachtenwerk.example").pk,
        name="Joris Visser-Jansen",
        actor=daan,
        now=now,
    )
    update_billing_details(
        organization=nl,
        actor=daan,
        now=now,
        data={
            "contact": {
                "name": "Administratie Grachtenwerk",
                "email": "administratie@grachtenwerk.example",
            },
            "cc": [],
            "address": {
                "street": "Keizersgracht 123",
                "postal_code": "1015 CJ",
                "city": "Amsterdam",
                "country": "NL",
            },
            "reference": "PO-2026-118",
            "invoice_language": "nl",
            "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
        },
    )

    # Fjällbyrån (marketplace): a few users; the vendor (marketplace) bought licences.
    elsa = portal(mp, "elsa@fjallbyran.example")
    for email, name in [
        ("nils@fjallbyran.example", "Nils Berg"),
        ("maja@fjallbyran.example", "Maja Ek"),
    ]:
        create_user(
            organization=mp, email=email, name=name, actor=elsa, now=now, password=DEMO_PASSWORD
        )
    set_license_count(organization=mp, licenses=10, actor=vendor, now=now)
    # Billing details too: the marketplace keeps them, through the vendor (Rule 6).
    update_billing_details(
        organization=mp,
        actor=vendor,
        now=now,
        data={
            "contact": {"user_id": User.objects.get(email="elsa@fjallbyran.example").pk},
            "cc": [],
            "address": {
                "street": "Storgatan 7",
                "postal_code": "111 22",
                "city": "Stockholm",
                "country": "SE",
            },
            "reference": "",
            "invoice_language": "en",
            "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
        },
    )

    # Polaris: annual, an open request for Professional.
    olli = portal(an, "olli@polaris.example")
    for email, name in [
        ("kaisa@polaris.example", "Kaisa Lehtonen"),
        ("ville@polaris.example", "Ville Mattila"),
    ]:
        create_user(
            organization=an, email=email, name=name, actor=olli, now=now, password=DEMO_PASSWORD
        )
    set_feature_enabled(organization=an, code="netvisor", enabled=True, actor=olli, now=now)
    request_edition_change(
        organization=an,
        edition="professional",
        actor=olli,
        now=now,
        message="We need resource planning and Salesforce from next year.",
    )
    update_billing_details(
        organization=an,
        actor=olli,
        now=now,
        data={
            "contact": {"user_id": User.objects.get(email="olli@polaris.example").pk},
            "cc": ["ostolaskut@polaris.example"],
            "address": {
                "street": "Tekniikantie 12",
                "postal_code": "02150",
                "city": "Espoo",
                "country": "FI",
            },
            "reference": "",
            "invoice_language": "en",
            "e_invoicing": {
                "enabled": True,
                "address": "0216:003715726429",
                "operator_code": "OKOYFIHH",
            },
        },
    )


DEMO_LOGINS = [
    ("Customer administrator, Finnish, 6-month periods, e-invoicing", "aino@kaamos.example"),
    ("User manager (no subscription permission)", "mikko@kaamos.example"),
    ("Ordinary user", "leena@kaamos.example"),
    ("Customer administrator, Dutch, monthly periods", "daan@grachtenwerk.example"),
    ("Customer administrator, bought through a marketplace", "elsa@fjallbyran.example"),
    ("Customer administrator, annual periods, open edition request", "olli@polaris.example"),
    ("Customer service, support role (back office: /backoffice/)", "support@abonnement.example"),
    ("Customer service, billing role (back office: /backoffice/)", "billing@abonnement.example"),
]


def print_logins(*, stdout: TextIO, base_url: str) -> None:
    stdout.write(
        f"\nAbonnement demo at {base_url}/  —  password for every login: {DEMO_PASSWORD}\n"
    )
    for role, email in DEMO_LOGINS:
        stdout.write(f"  {email:<32} {role}\n")
    if "filebased" in settings.EMAIL_BACKEND:
        stdout.write(
            f"E-mails (order confirmations, invoices) are written to {settings.EMAIL_FILE_PATH}/\n"
        )
    stdout.write("\n")


__all__ = ["DEMO_PASSWORD", "UTC", "load_catalog", "load_demo", "print_logins"]
