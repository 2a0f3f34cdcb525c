"""The portal's and back office's colours keep WCAG AA contrast on white: 4.5:1 for text,
3:1 for what identifies a control (field borders, WCAG 1.4.11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "abonnement"
PORTAL_CSS = STATIC / "core" / "static" / "portal" / "portal.css"


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def variables() -> dict[str, str]:
    css = PORTAL_CSS.read_text()
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def test_the_contrast_formula_matches_wcags_reference_values() -> None:
    assert round(contrast("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


@pytest.mark.parametrize(("name", "minimum"), [("text", 4.5), ("muted", 4.5), ("accent", 4.5),
                                               ("error", 4.5), ("border-strong", 3.0)])  # fmt: skip
def test_portal_colours_on_white(name: str, minimum: float) -> None:
    assert contrast(variables()[name], "#ffffff") >= minimum, variables()[name]


def test_field_borders_use_the_strong_border() -> None:
    css = PORTAL_CSS.read_text()
    fields = css[css.index("input[type=text], input[type=email]") :]
    assert "border: 1px solid var(--border-strong)" in fields[: fields.index("}")]
