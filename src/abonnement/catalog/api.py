"""The catalogue (API.md "Catalogue")."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Router

from abonnement.catalog.schemas import CatalogOut, catalog_out
from abonnement.catalog.selectors import catalog_on
from abonnement.config.api_auth import caller_of
from abonnement.config.api_errors import responses
from abonnement.core import clock

router = Router(tags=["Catalogue"])


@router.get("/catalog", response=responses({200: CatalogOut}), summary="Read the catalogue")
def get_catalog(request: HttpRequest, at: date | None = None) -> Any:
    """Editions, features and storage packs with the prices in force today (``?at=`` for
    another day). Any token."""
    caller = caller_of(request)
    return catalog_out(catalog_on(at or clock.business_date(caller.now), field="at"))
