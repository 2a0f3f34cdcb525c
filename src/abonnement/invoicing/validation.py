"""Validation of UBL documents against the official artefacts (``settings.EINVOICE_RULES_DIR``).

Three layers, as the Peppol network applies them: the OASIS UBL 2.1 XSD (lxml), the CEN
EN 16931 business rules and the Peppol BIS 3.0 rules (schematron compiled to XSLT 2.0, run
by Saxon-HE through saxonche). A document is valid when the XSD passes and no assertion is
flagged ``fatal``; warnings are reported but do not fail it.

The stylesheets take about half a second to compile, so they are compiled once per process
(per rules folder) and kept; each document then takes a few milliseconds. Saxon's processor
is not shared between threads safely, so validations are serialised by a lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from lxml import etree

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
INVOICE_XSD = "ubl-2.1/xsd/maindoc/UBL-Invoice-2.1.xsd"
CREDIT_NOTE_XSD = "ubl-2.1/xsd/maindoc/UBL-CreditNote-2.1.xsd"
CEN_XSLT = "CEN-EN16931-UBL.xslt"
PEPPOL_XSLT = "PEPPOL-EN16931-UBL.xslt"


class RulesUnavailable(RuntimeError):
    """The rules folder is missing or incomplete; nothing can be validated."""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    flag: str  # "fatal" or "warning"; XSD errors are "fatal" with rule id "XSD"
    location: str
    text: str


@dataclass(frozen=True)
class ValidationReport:
    findings: tuple[Finding, ...] = field(default=())

    @property
    def fatal(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "fatal")

    @property
    def valid(self) -> bool:
        return not self.fatal

    @property
    def fatal_rule_ids(self) -> list[str]:
        return sorted({f.rule_id for f in self.fatal})

    def as_json(self) -> list[dict[str, str]]:
        return [
            {"rule_id": f.rule_id, "flag": f.flag, "location": f.location, "text": f.text}
            for f in self.findings
        ]


def rules_dir() -> Path:
    return Path(settings.EINVOICE_RULES_DIR)


def _peppol_dir(root: Path) -> Path:
    candidates = sorted(p for p in root.glob("peppol-*") if (p / PEPPOL_XSLT).is_file())
    if not candidates:
        raise RulesUnavailable(f"no peppol-*/{PEPPOL_XSLT} in {root}")
    return candidates[-1]


def rules_missing_reason(root: Path | None = None) -> str | None:
    """Why validation cannot run here, or ``None`` when the rules are in place."""
    root = root or rules_dir()
    if not root.is_dir():
        return f"e-invoice rules folder {root} not found (setting EINVOICE_RULES_DIR)"
    for relative in (INVOICE_XSD, CREDIT_NOTE_XSD):
        if not (root / relative).is_file():
            return f"{relative} missing in {root}"
    try:
        peppol = _peppol_dir(root)
    except RulesUnavailable as error:
        return str(error)
    if not (peppol / CEN_XSLT).is_file():
        return f"{CEN_XSLT} missing in {peppol}"
    return None


class Validator:
    """The compiled artefacts of one rules folder."""

    def __init__(self, root: Path) -> None:
        reason = rules_missing_reason(root)
        if reason:
            raise RulesUnavailable(reason)
        from saxonche import PySaxonProcessor

        self.root = root
        self._lock = threading.Lock()
        self._schemas = {
            "Invoice": etree.XMLSchema(file=str(root / INVOICE_XSD)),
            "CreditNote": etree.XMLSchema(file=str(root / CREDIT_NOTE_XSD)),
        }
        peppol = _peppol_dir(root)
        self._processor = PySaxonProcessor(license=False)
        compiler = self._processor.new_xslt30_processor()
        self._stylesheets = [
            compiler.compile_stylesheet(stylesheet_file=str(peppol / CEN_XSLT)),
            compiler.compile_stylesheet(stylesheet_file=str(peppol / PEPPOL_XSLT)),
        ]

    def validate(self, document: bytes) -> ValidationReport:
        try:
            tree = etree.fromstring(document)
        except etree.XMLSyntaxError as error:
            return ValidationReport((Finding("XML", "fatal", "", str(error)),))
        name = etree.QName(tree).localname
        schema = self._schemas.get(name)
        if schema is None:
            return ValidationReport(
                (Finding("XSD", "fatal", "/", f"not a UBL Invoice or CreditNote: {name}"),)
            )
        findings: list[Finding] = []
        with self._lock:
            if not schema.validate(tree):
                findings.extend(
                    Finding("XSD", "fatal", f"line {e.line}", e.message) for e in schema.error_log
                )
                # The schematron assumes a schema-valid document; stop at the XSD.
                return ValidationReport(tuple(findings))
            node = self._processor.parse_xml(xml_text=document.decode("utf-8"))
            for stylesheet in self._stylesheets:
                report = stylesheet.transform_to_string(xdm_node=node)
                findings.extend(_svrl_findings(report or ""))
        return ValidationReport(tuple(findings))


def _svrl_findings(report: str) -> list[Finding]:
    svrl = etree.fromstring(report.encode("utf-8"))
    findings = []
    for element in svrl.iter(SVRL + "failed-assert", SVRL + "successful-report"):
        text = element.findtext(SVRL + "text") or ""
        findings.append(
            Finding(
                rule_id=element.get("id", ""),
                flag=element.get("flag", "fatal"),
                location=element.get("location", ""),
                text=" ".join(text.split()),
            )
        )
    return findings


_validators: dict[Path, Validator] = {}
_validators_lock = threading.Lock()


def get_validator(root: Path | None = None) -> Validator:
    """The process's validator for ``root`` (the setting by default), compiled on first use."""
    key = (root or rules_dir()).resolve()
    with _validators_lock:
        validator = _validators.get(key)
        if validator is None:
            validator = Validator(key)
            _validators[key] = validator
        return validator


def validate_ubl(document: bytes) -> ValidationReport:
    return get_validator().validate(document)
