"""The customer administrator's main flows in a real browser (issue 3's list)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_sign_in_gear_menu_to_subscription_overview(browse: Any) -> None:
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/")
    gear = page.locator("summary", has_text="Settings")
    gear.focus()
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name="Settings")
    expect(menu.get_by_text("Miscellaneous")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(gear).to_be_focused()
    gear.click()
    menu.get_by_role("link", name="Subscription").click()
    expect(page.get_by_role("heading", name="Current billing period")).to_be_visible()
    expect(page.get_by_role("heading", name="Next billing period")).to_be_visible()
    expect(page.locator("main")).to_contain_text("1 Jan 2027 – 30 Jun 2027")
    expect(page.locator("main")).to_contain_text("Changes made by 30 June 2027")
    b.shot("overview")


def test_buy_licences_with_preview_then_find_the_order_in_history(browse: Any, world: Any) -> None:
    from abonnement.invoicing.services import issue_invoice_for_order
    from abonnement.orders.models import Order
    from tests.conftest import NOW, give_invoice_address

    give_invoice_address(world)  # invoices wait for the invoice address otherwise
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/licences/")
    b.shot("licences")
    page.get_by_label("Total number of user licences").fill("13")
    page.get_by_role("button", name="Continue").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("€332.15")
    expect(dialog).to_contain_text("15 Jan 2027 – 30 Jun 2027")
    expect(dialog).to_contain_text("167 of the period's 181 days")
    expect(dialog).to_contain_text("€1,638.00")
    b.shot("licences-preview")
    dialog.get_by_role("button", name="Confirm and pay €332.15").click()
    order = Order.objects.get(organization=world, kind="licenses")
    expect(page.locator(".notice-success")).to_contain_text(f"Order {order.number} placed")
    assert order.total == Decimal("332.15")
    page.get_by_role("link", name="History").click()
    expect(page.locator("main")).to_contain_text("User licences, Pro × 3, 167 of 181 days")
    # The background worker has not issued the documents yet: a status, no link.
    row = page.get_by_role("row").filter(has_text="167 of 181 days")
    expect(row).to_contain_text("Being prepared")
    expect(row.get_by_role("link", name="PDF")).to_have_count(0)
    b.shot("history-orders")

    # The worker issues them; the order gets its PDF and the invoice shows under Invoices.
    documents = issue_invoice_for_order(order_id=order.pk, now=NOW)
    invoice = documents.invoice
    page.reload()
    expect(row.get_by_role("link", name=f"PDF order confirmation {order.number}")).to_be_visible()
    page.get_by_label("Show").select_option("Invoices")
    results = page.locator("#history-results")
    expect(results.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    invoice_row = results.get_by_role("row").filter(has_text=f"Order {order.number}")
    expect(invoice_row).to_contain_text(str(invoice.number))
    expect(invoice_row).to_contain_text("1 Jan 2027 – 30 Jun 2027")
    expect(invoice_row).to_contain_text(f"€{invoice.total:,.2f}")
    expect(invoice_row).to_contain_text("Pending")
    b.shot("history-invoices")
    pdf_link = invoice_row.get_by_role("link", name=f"PDF invoice {invoice.number}")
    pdf_link.focus()
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == f"invoice-{invoice.number}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF-")

    invoice_row.get_by_role("button", name=f"Resend invoice {invoice.number}").click()
    expect(page.locator(".notice-success")).to_contain_text(
        f"Invoice {invoice.number} is being sent again by e-mail to admin@testi.example."
    )
    expect(page.get_by_label("Show")).to_have_value("invoices")


def test_lower_licences_and_see_the_next_period_change(browse: Any) -> None:
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/licences/")
    page.get_by_label("Total number of user licences").fill("7")
    page.get_by_role("button", name="Continue").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("From 1 July 2027, the start of the next period")
    dialog.get_by_role("button", name="Confirm").click()
    expect(page.locator(".notice-success")).to_contain_text(
        "From 1 July 2027 the subscription has 7 user licences."
    )
    page.get_by_role("link", name="Overview").click()
    next_period = page.locator(
        "section", has=page.get_by_role("heading", name="Next billing period")
    )
    expect(next_period).to_contain_text("7")
    expect(page.locator("main")).to_contain_text("User licences: 10 → 7")
    b.shot("overview-scheduled-removal")


def test_refusal_below_active_users_points_to_user_management(browse: Any, world: Any) -> None:
    from tests.conftest import add_users

    add_users(world, 4)
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/licences/")
    page.get_by_label("Total number of user licences").fill("3")
    page.get_by_role("button", name="Continue").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("5 users are active")
    b.shot("licences-refused")
    dialog.get_by_role("link", name="Open user management").click()
    expect(page.get_by_role("heading", name="User management")).to_be_visible()


def test_switch_a_feature_off_and_see_it_in_the_action_history(browse: Any) -> None:
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/features/")
    switch = page.get_by_role("switch", name="Slack")
    expect(switch).to_have_attribute("aria-checked", "true")
    b.shot("features")
    switch.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This affects everybody in your organisation")
    dialog.get_by_label("Reason (optional)").fill("We use Teams")
    dialog.get_by_role("button", name="Switch off").click()
    expect(page.get_by_role("switch", name="Slack")).to_have_attribute("aria-checked", "false")
    page.goto("/settings/subscription/history/")
    page.get_by_label("Show").select_option("features")
    results = page.locator("#history-results")
    expect(results).to_contain_text("Slack switched off")
    expect(results).to_contain_text("We use Teams")
    b.shot("history-features")


def test_billing_details_bad_then_good_e_invoice_address(browse: Any, world: Any) -> None:
    from abonnement.billing.models import BillingDetails

    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/billing/")
    page.get_by_label("Street address").fill("Mannerheimintie 5")
    page.get_by_label("Postal code").fill("00100")
    page.get_by_label("City").fill("Helsinki")
    page.get_by_label("Send invoices as e-invoices").check()
    page.get_by_label("E-invoice address").fill("0037 1234")
    page.get_by_label("Operator code").fill("003723327487")
    expect(page.locator("#operator-name")).to_contain_text("Apix Messaging Oy")
    page.get_by_role("button", name="Save billing details").click()
    address = page.get_by_label("E-invoice address")
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_einvoice_address_error")).to_contain_text("Enter an OVT code")
    assert BillingDetails.objects.get(organization=world).street == ""
    b.shot("billing-error")
    address.fill("003723456780")
    page.get_by_role("button", name="Save billing details").click()
    expect(page.locator(".notice-success")).to_contain_text("The billing details have been saved.")
    details = BillingDetails.objects.get(organization=world)
    assert (details.einvoice_enabled, details.einvoice_address, details.city) == (
        True,
        "003723456780",
        "Helsinki",
    )
    b.shot("billing")


def test_create_a_user_buying_a_licence(browse: Any, world: Any) -> None:
    from abonnement.subscriptions.models import Subscription
    from tests.conftest import add_users

    add_users(world, 9)
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/users/")
    page.get_by_role("link", name="Add user").click()
    expect(page.locator("main")).to_contain_text("No free licence: buy one")
    page.get_by_label("Name").fill("Kalle Käyttäjä")
    page.get_by_label("E-mail address").fill("kalle@testi.example")
    page.get_by_label("Buy one user licence for €110.72 now").check()
    b.shot("user-new-buy")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".notice-success")).to_contain_text("Kalle Käyttäjä has been added.")
    expect(page.locator(".counter")).to_contain_text("11")
    sub = Subscription.objects.get(organization=world)
    assert (sub.licenses, sub.licenses_next) == (11, 11)


def test_deactivate_a_user_removing_the_licence(browse: Any, world: Any) -> None:
    from abonnement.subscriptions.models import Subscription
    from tests.conftest import add_users

    add_users(world, 2)
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/users/")
    opener = page.get_by_role("link", name="Deactivate User 0")
    opener.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Deactivate User 0?")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    opener.click()
    dialog.get_by_label("Remove it from the subscription (from 1 Jul 2027)").check()
    b.shot("user-deactivate")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(page.locator(".notice-success")).to_contain_text("User 0 has been deactivated.")
    sub = Subscription.objects.get(organization=world)
    assert (sub.licenses, sub.licenses_next) == (10, 9)


def test_marketplace_organisation_is_read_only(browse: Any) -> None:
    from tests.conftest import make_organization

    make_organization(
        name="Markt Oy",
        admin_email="m@markt.example",
        admin_password=PASSWORD,
        purchase_channel={
            "type": "marketplace",
            "name": "Partner Market",
            "url": "https://pm.example/",
        },
    )
    b = browse()
    b.sign_in("m@markt.example")
    page = b.page
    page.goto("/settings/subscription/licences/")
    expect(page.locator("main")).to_contain_text("bought through Partner Market")
    expect(page.get_by_role("link", name="Open Partner Market").first).to_have_attribute(
        "href", "https://pm.example/"
    )
    expect(page.get_by_label("Total number of user licences")).to_be_disabled()
    page.goto("/settings/subscription/features/")
    expect(page.get_by_role("switch", name="Single sign-on")).to_be_disabled()
    included = page.get_by_role("switch", name="Slack")
    expect(included).to_be_enabled()
    included.click()
    page.get_by_role("dialog").get_by_role("button", name="Switch off").click()
    expect(page.get_by_role("switch", name="Slack")).to_have_attribute("aria-checked", "false")
    b.shot("marketplace")
    page.goto("/settings/subscription/billing/")
    expect(page.locator("main")).to_contain_text(
        "Your billing details are also managed through Partner Market: change them there."
    )
    expect(page.get_by_label("Street address")).to_be_disabled()
    expect(page.get_by_role("switch", name="Send invoices as e-invoices")).to_be_disabled()
    expect(page.get_by_role("button", name="Save billing details")).to_have_count(0)
    b.shot("marketplace-billing")


def test_dutch_interface(browse: Any, world: Any) -> None:
    from abonnement.accounts.models import User

    User.objects.filter(email="admin@testi.example").update(language="nl")
    b = browse()
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/")
    expect(page.get_by_role("heading", name="Abonnement", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Huidige factureringsperiode")).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Bestandsopslag")
    expect(main).to_contain_text("Gebruikerslicenties")
    expect(main).to_contain_text("1 jan 2027")
    tabs = page.get_by_role("navigation", name="Onderdelen van het abonnement")
    expect(tabs.get_by_role("link", name="Facturatiegegevens")).to_be_visible()
    # Provisioned without an invoice address: the invoices wait for it, and the page says so.
    notice = page.locator("#invoices-held")
    expect(notice).to_contain_text(
        "Facturen wachten op je facturatiegegevens. Vul het factuuradres in om ze te ontvangen."
    )
    expect(notice.get_by_role("link", name="Facturatiegegevens")).to_have_attribute(
        "href", "/settings/subscription/billing/"
    )
    page.locator("summary.icon-button").click()
    expect(page.get_by_role("navigation", name="Instellingen")).to_contain_text("Diverse")
    b.shot("dutch-overview")


def test_small_screen_375(browse: Any, world: Any) -> None:
    from tests.conftest import add_users

    add_users(world, 3)
    b = browse(width=375)
    b.sign_in()
    page = b.page
    for path, name in [
        ("/settings/subscription/", "mobile-overview"),
        ("/settings/subscription/licences/", "mobile-licences"),
        ("/settings/subscription/features/", "mobile-features"),
        ("/settings/subscription/billing/", "mobile-billing"),
        ("/settings/users/", "mobile-users"),
    ]:
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
        b.shot(name)
    page.locator("summary.icon-button").click()
    expect(page.get_by_role("link", name="User management")).to_be_visible()


def test_small_screen_375_in_finnish_with_a_long_address(browse: Any, world: Any) -> None:
    """Longer Finnish labels and a long e-mail address neither widen the page nor push the
    settings menu off the screen."""
    from abonnement.accounts.models import User

    long_address = "aino.virtanen-kallioniemi.taloushallinto@asiakaspalvelu-testi.example"
    User.objects.filter(email="admin@testi.example").update(
        language="fi", name="Aino Virtanen-Kallioniemi", email=long_address
    )
    b = browse(width=375)
    b.sign_in(long_address)
    page = b.page
    for path in ("/account/profile/", "/settings/subscription/"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"{path} is {width}px wide"
    page.locator("summary.icon-button").click()
    panel = page.locator(".menu-panel").bounding_box()
    assert panel is not None
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375, panel
    expect(page.get_by_role("link", name="Käyttäjien hallinta")).to_be_visible()
    b.shot("mobile-menu-fi")


def test_buying_licences_works_without_javascript(browse: Any, world: Any) -> None:
    from abonnement.subscriptions.models import Subscription

    b = browse(javascript=False)
    b.sign_in()
    page = b.page
    page.goto("/settings/subscription/licences/")
    page.get_by_label("Total number of user licences").fill("12")
    page.get_by_role("button", name="Continue").first.click()
    expect(page.get_by_role("heading", name="Buy user licences: 12 in total")).to_be_visible()
    page.get_by_role("button", name="Confirm and pay").click()
    expect(page.locator(".notice-success")).to_contain_text("placed")
    assert Subscription.objects.get(organization=world).licenses == 12
    b.shot("no-javascript-licences")
