"""Delivery adapters: how a document leaves the building.

``settings.DELIVERY_ADAPTERS`` names one class per channel (``email``, ``einvoice``); an
adapter has ``send(outgoing) -> str`` that returns where it went (for the history) and
raises on a failure worth retrying. Swap the e-invoice adapter for an operator's API by
pointing the setting at another class with the same method.

- ``EmailAdapter``: Django's mail (the SMTP backend in production), PDF attached, to the
  billing contact with the copy recipients in Cc.
- ``OutboxAdapter``: writes the UBL document and a JSON routing envelope into
  ``ABONNEMENT_OUTBOX_DIR`` for an operator to collect. Each file is written to a hidden
  temporary name in the same folder, flushed to disk and renamed, so a reader never sees a
  half file; the envelope is written last and is the "ready" signal. Writing is idempotent:
  the names are the document's id, and a document already in the outbox with the same
  checksum is not written again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage

from abonnement.invoicing.services import Outgoing


class EmailAdapter:
    def send(self, outgoing: Outgoing) -> str:
        message = EmailMessage(
            subject=outgoing.subject,
            body=outgoing.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=outgoing.to,
            cc=outgoing.cc,
            headers={"X-Abonnement-Delivery": outgoing.delivery_id},
        )
        for attachment in outgoing.attachments:
            message.attach(attachment.filename, attachment.content, attachment.content_type)
        message.send(fail_silently=False)
        return ", ".join([*outgoing.to, *outgoing.cc])


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename.

    If anything fails before the rename, the temporary file is removed and ``path`` is
    untouched. A process killed before the rename leaves only a hidden ``.tmp-*`` file.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".tmp-{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class OutboxAdapter:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder or settings.ABONNEMENT_OUTBOX_DIR)

    def send(self, outgoing: Outgoing) -> str:
        document = outgoing.document
        if document is None:
            raise ValueError("the outbox takes e-invoices only")
        routing = outgoing.routing
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = routing["document_id"]
        xml_path = self.folder / f"{stem}.xml"
        envelope_path = self.folder / f"{stem}.json"
        envelope = dict(routing, file=xml_path.name)
        # What this returns is stored as the delivery's destination, in English whoever
        # reads it; the portal recognises both forms and shows them in the reader's language
        # (``abonnement.history.texts``), so keep them as they are.
        encoded = (
            json.dumps(envelope, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        ).encode("utf-8")
        if self._already_there(xml_path, envelope_path, routing["sha256"], encoded):
            return f"outbox {envelope_path.name} (already there)"
        write_atomically(xml_path, document.content)
        write_atomically(envelope_path, encoded)
        receiver = routing["receiver"]
        return f"{receiver['einvoice_address']} via {receiver['operator']} (outbox)"

    @staticmethod
    def _already_there(xml_path: Path, envelope_path: Path, sha256: str, envelope: bytes) -> bool:
        """The same document with the same routing is waiting already (a retry after a
        crash between writing and recording); a new address or operator is written anew."""
        if not (xml_path.is_file() and envelope_path.is_file()):
            return False
        return (
            hashlib.sha256(xml_path.read_bytes()).hexdigest() == sha256
            and envelope_path.read_bytes() == envelope
        )
