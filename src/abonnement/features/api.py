"""Features, integrations and entitlements (API.md "Features and integrations")."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import NinjaJSONEncoder

from abonnement.accounts import permissions
from abonnement.config.api_auth import caller_of, organization_for
from abonnement.config.api_common import whole_list
from abonnement.config.api_errors import responses
from abonnement.core.errors import NotFound
from abonnement.features import services
from abonnement.features.schemas import (
    EntitlementsOut,
    FeatureChangeOut,
    FeatureList,
    FeatureSwitchIn,
    entitlements_out,
    feature_out,
)
from abonnement.features.selectors import feature_page, organization_entitlements
from abonnement.orders.schemas import order_or_none
from abonnement.subscriptions.schemas import PreviewOut, preview_out

router = Router(tags=["Features and integrations"])


@router.get(
    "/organizations/{org}/features",
    response=responses({200: FeatureList}),
    summary="List features and integrations",
)
def list_features(request: HttpRequest, org: str) -> Any:
    """Every feature and integration of the catalogue with its state for this organisation."""
    _caller, organization = organization_for(request, org, permission="manage_subscription")
    return whole_list(feature_page(organization_id=organization.pk).states, feature_out)


@router.put(
    "/organizations/{org}/features/{code}",
    response=responses({200: FeatureChangeOut}, write=True),
    summary="Switch a feature or integration on or off",
)
def switch_feature(request: HttpRequest, org: str, code: str, payload: FeatureSwitchIn) -> Any:
    """For the whole organisation. A paid add-on switched on is bought now (pro rata);
    switched off, it is no longer billed from the next period."""
    caller, organization = organization_for(request, org)
    change = services.set_feature_enabled(
        organization=organization,
        code=code,
        enabled=payload.enabled,
        actor=caller.actor,
        now=caller.now,
    )
    return {"feature": feature_out(change.state), "order": order_or_none(change.order)}


@router.post(
    "/organizations/{org}/features/{code}/preview",
    response=responses({200: PreviewOut}, write=True),
    summary="Preview buying a paid add-on",
)
def preview_feature(request: HttpRequest, org: str, code: str) -> Any:
    """What switching the add-on on would charge now; commits nothing (scope read)."""
    caller, organization = organization_for(request, org)
    preview = services.preview_feature_change(
        organization=organization, code=code, actor=caller.actor, now=caller.now
    )
    return preview_out(preview)


@router.get(
    "/organizations/{org}/entitlements",
    response=responses({200: EntitlementsOut, 304: None}),
    summary="Read the entitlements",
    openapi_extra={
        "parameters": [
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of an earlier answer (or *): 304 while nothing changed.",
                "schema": {"type": "string"},
            }
        ]
    },
)
def get_entitlements(request: HttpRequest, org: str) -> Any:
    """What the vendor's product needs to decide access, with an ``ETag``.

    One query reads the organisation and its whole body (``organization_entitlements``),
    so a 200 and a 304 cost the same: the clock, the token, this query. The checks are
    ``organization_for``'s (same organisation, else 404; the permission, else 403), made on
    the organisation that query loaded. The ETag hashes the body, so it is never stale."""
    caller = caller_of(request)
    found = organization_entitlements(organization_id=org)
    permissions.require(caller.actor, found.organization, "manage_subscription")
    if found.entitlements is None:
        raise NotFound(_("Organisation not found."))
    body = entitlements_out(found.entitlements)
    content = json.dumps(body, cls=NinjaJSONEncoder)
    etag = '"' + hashlib.sha256(content.encode()).hexdigest()[:32] + '"'
    wanted = _etags(request.headers.get("If-None-Match", ""))
    if etag in wanted or "*" in wanted:  # RFC 9110 13.1.2: * matches any representation
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _etags(header: str) -> set[str]:
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return tags - {""}
