"""Every portal text exists in English, Dutch and Finnish.

The catalogues live in ``src/abonnement/locale/{nl,fi}/LC_MESSAGES``. After changing any
text, from ``src/abonnement``::

    django-admin makemessages -l nl -l fi --ignore='backoffice/*' --ignore='*/migrations/*' \\
        --no-obsolete --settings=abonnement.config.settings
    # translate the new entries in both django.po files, then
    django-admin compilemessages -l nl -l fi --settings=abonnement.config.settings

These tests fail on a message without a translation (or marked fuzzy), on a translation
that loses or invents a ``%(placeholder)s``, on a compiled ``.mo`` older than its ``.po``,
and on a text in the source that is not in the catalogues yet. The vendor's back office
(``backoffice/``) is for the vendor's own staff and stays English.
"""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

import abonnement

PACKAGE = Path(abonnement.__file__).resolve().parent
LANGUAGES = ["nl", "fi"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def po_path(language: str, root: Path = PACKAGE) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


def untranslated(path: Path, language: str) -> list[str]:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(str(message.id))
    return missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    assert untranslated(po_path(language), language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != expected:
                wrong.append(str(ids[0]))
    assert wrong == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language: str) -> None:
    mo = po_path(language).with_suffix(".mo")
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    with po_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    stale = []
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if compiled.ngettext(message.id[0], message.id[1], 5) != message.string[1]:
                stale.append(message.id[0])
        elif message.context:
            if compiled.pgettext(message.context, message.id) != message.string:
                stale.append(message.id)
        elif compiled.gettext(message.id) != message.string:
            stale.append(message.id)
    assert stale == [], "run compilemessages"


def test_the_catalogues_hold_every_text_of_the_source(tmp_path: Path, settings: Any) -> None:
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext is not installed (apt-get install gettext)")
    from django.core.management import call_command

    copy = tmp_path / "abonnement"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "static"))
    settings.LOCALE_PATHS = []  # write into the copy's locale folder, not the real one
    import os

    here = Path.cwd()
    os.chdir(copy)
    try:
        call_command(
            "makemessages",
            locale=LANGUAGES,
            ignore_patterns=["backoffice/*", "*/migrations/*"],
            no_obsolete=True,
            verbosity=0,
        )
    finally:
        os.chdir(here)
    for language in LANGUAGES:
        assert untranslated(po_path(language, copy), language) == [], (
            f"texts without a {language} translation; see this module's docstring"
        )
