"""The table of known Finnish e-invoicing operators (intermediators), shipped as data.

``operators.json`` lists operator codes (OVT-style codes and bank BICs) with the names that
are shown beside a billing detail's operator code. Every code passes
``validators.validate_operator_code`` unchanged (a test keeps it so).
"""

from __future__ import annotations

import json
from importlib.resources import files


def load_operator_table() -> list[dict[str, str]]:
    """Return the operators as ``[{"code": ..., "name": ...}, ...]`` in file order."""
    text = files("abonnement.billing").joinpath("operators.json").read_text(encoding="utf-8")
    entries = json.loads(text)
    return [{"code": str(entry["code"]), "name": str(entry["name"])} for entry in entries]
