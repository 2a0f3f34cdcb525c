from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet

from abonnement.history.models import HistoryEntry


def history_for(*, organization_id: UUID, kind: str | None = None) -> QuerySet[HistoryEntry]:
    qs = HistoryEntry.objects.filter(organization_id=organization_id)
    if kind and kind != "all":
        qs = qs.filter(kind=kind)
    return qs.order_by("-at", "-id")
