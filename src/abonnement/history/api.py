"""History (API.md "Orders, invoices, history")."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router

from abonnement.config.api_auth import organization_for
from abonnement.config.api_common import PageQuery, paginate
from abonnement.config.api_errors import responses
from abonnement.history.schemas import HistoryList, history_entry_out
from abonnement.history.selectors import history_for

router = Router(tags=["History"])

HistoryKindName = Literal[
    "all", "features", "licenses", "billing", "edition", "users", "organization", "orders", "period"
]


@router.get(
    "/organizations/{org}/history",
    response=responses({200: HistoryList}),
    summary="Read the history",
)
def list_history(
    request: HttpRequest, org: str, page: Query[PageQuery], kind: HistoryKindName = "all"
) -> Any:
    """Every change with who, when, through which channel, before and after."""
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return paginate(
        history_for(organization_id=organization.pk, kind=kind),
        fields=("at", "id"),
        limit=page.limit,
        cursor=page.cursor,
        present=history_entry_out,
    )
