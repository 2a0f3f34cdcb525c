"""The back office's history reads as the customer's change log does: one sentence per
entry, the stored values labelled and formatted, the action code beside it for staff."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, admin_of, give_invoice_address

pytestmark = pytest.mark.django_db


def history_rows(client: Client, org: Any) -> list[list[str]]:
    """The history table's rows as the cells' text, whitespace collapsed."""
    html = client.get(reverse("backoffice:organization", args=[org.pk])).content.decode()
    table = html[html.index('<table class="history">') :]
    table = table[: table.index("</table>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        rows.append([" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in cells])
    return rows


def test_entries_read_as_sentences_with_labelled_values_and_the_code_beside(
    support_client: Client, org: Any
) -> None:
    set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
    give_invoice_address(org)
    rows = history_rows(support_client, org)
    bought = next(r for r in rows if "licenses_bought" in r[2])
    assert bought[1:] == [
        "Anna Admin Portal",
        "User licences bought: 10 → 12 licenses_bought Order 2",
        "Current period 10 Next period 10",
        "Current period 12 Next period 12",
    ]
    billing = next(r for r in rows if "billing_details_changed" in r[2])
    assert billing[2] == "Billing details changed: invoice address billing_details_changed"
    assert billing[3:] == [
        "Invoice address Street —, Postal code —, City —, Country Finland",
        "Invoice address Street Testikatu 1, Postal code 00100, City Helsinki, Country Finland",
    ]


def test_every_scrolling_table_is_a_labelled_region_the_keyboard_reaches(
    support_client: Client, org: Any
) -> None:
    """On a narrow screen a wide table scrolls inside its frame: the frame takes focus
    (arrow keys scroll it) and names its table, WCAG 2.1.1 (axe: scrollable-region-focusable)."""
    set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
    html = support_client.get(reverse("backoffice:organization", args=[org.pk])).content.decode()
    frames = re.findall(r'<div class="table-wrap"[^>]*>', html)
    assert len(frames) >= 4
    for frame in frames:
        assert 'tabindex="0"' in frame and 'role="region"' in frame, frame
        labelled = re.search(r'aria-labelledby="([a-z-]+)"', frame)
        assert labelled and f'id="{labelled.group(1)}"' in html, frame
