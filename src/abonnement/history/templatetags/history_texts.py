"""The history's display texts as template filters (see ``abonnement.history.texts``)."""

from __future__ import annotations

from django import template

from abonnement.history import texts

register = template.Library()

register.filter("delivery_text", texts.delivery_text)
