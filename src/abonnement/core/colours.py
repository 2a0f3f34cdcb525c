"""Colour arithmetic for the portal's branding: WCAG contrast, and the shades of an accent.

Pure functions without Django, so the settings can check ``ABONNEMENT_ACCENT_COLOR`` when
they load and the branding stylesheet can derive its shades from the same code.
"""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"#[0-9a-f]{6}")
WHITE = "#ffffff"
# WCAG AA for normal text: links and the white text on buttons are drawn in the accent.
TEXT_CONTRAST = 4.5


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(channels: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in channels)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    linear = []
    for channel in _channels(colour):
        c = channel / 255
        linear.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(colour: str, other: str, share: float) -> str:
    """``share`` of ``other`` mixed into ``colour`` (0 keeps ``colour``)."""
    (r1, g1, b1), (r2, g2, b2) = _channels(colour), _channels(other)
    return _hex((r1 + (r2 - r1) * share, g1 + (g2 - g1) * share, b1 + (b2 - b1) * share))


def accent_color(text: str) -> str:
    """``ABONNEMENT_ACCENT_COLOR``: empty (the portal's own blue) or ``#rrggbb`` dark enough
    for text on white and white text on it. Raises ``ValueError`` saying what is wrong."""
    value = text.strip().lower()
    if not value:
        return ""
    if not HEX_COLOUR.fullmatch(value):
        raise ValueError(f"expected a colour as #rrggbb (such as #0b57a4), not {text.strip()!r}")
    ratio = contrast(value, WHITE)
    if ratio < TEXT_CONTRAST:
        raise ValueError(
            f"{value} has a contrast of {ratio:.2f}:1 with white; links and button labels "
            f"need {TEXT_CONTRAST}:1, so choose a darker shade"
        )
    return value


def accent_shades(accent: str) -> dict[str, str]:
    """The portal's accent custom properties, derived from one accent colour as the
    built-in blue's are: a darker shade for hover, a pale one for highlighted backgrounds."""
    return {
        "accent": accent,
        "accent-dark": mix(accent, "#000000", 0.22),
        "accent-soft": mix(accent, WHITE, 0.9),
        "focus": accent,
    }
