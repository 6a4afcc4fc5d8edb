"""Checking a report PDF offline: is it authentic and unaltered?

Django-free (pypdf and ``integrity`` only), so ``manage.py verify_report --offline`` and
an auditor's own script give the same answer as the portal. ``inspect_pdf`` reads the
embedded ``evaluation.json`` and ``signature.json``, recomputes the JSON's SHA-256 and
checks the Ed25519 signature with the portal's public key. Whether an evaluation with
that hash was issued is the portal's question (``services.verify_report``).
"""

from __future__ import annotations

import io
import logging
from dataclasses import asdict, dataclass, field

from pypdf import PdfReader
from pypdf.errors import PdfReadError, PyPdfError

from ..engine import bounded
from . import integrity
from .integrity import EVALUATION_ATTACHMENT, SIGNATURE_ATTACHMENT

logger = logging.getLogger(__name__)

NOT_A_PDF = "not a PDF"
NO_EVALUATION = "no embedded evaluation"
NO_SIGNATURE = "no embedded signature"
ALTERED = "embedded evaluation altered (hash mismatch)"
BAD_SIGNATURE = "signature invalid (signed by another key)"
NOT_ISSUED = "no evaluation with this hash was issued by this portal"
FILE_CHANGED = (
    "the signed evaluation inside is intact, but the file differs from every report this "
    "portal issued for it (altered after download)"
)
AUTHENTIC = "authentic and unaltered"
SIGNATURE_MAX_BYTES = 64 * 1024
"""Largest embedded signature.json read (the portal writes about 300 bytes)."""


@dataclass
class Verdict:
    """The answer about one PDF: ``authentic`` and a reason a person can read."""

    authentic: bool
    reason: str
    json_sha256: str = ""
    signature: str = ""
    key_fingerprint: str = ""
    report: str = ""
    evaluation: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)


def _attachment(attachments, name):
    try:
        contents = attachments.get(name)
    except (PyPdfError, KeyError, ValueError, TypeError):
        return None
    if not contents:
        return None
    return contents[0] if isinstance(contents, list) else contents


def read_attachments(data: bytes):
    """``(evaluation_json, signature_json)`` bytes embedded in the PDF (None when absent).

    Raises ``ValueError`` when ``data`` is not a readable PDF.
    """
    if b"%PDF-" not in data[:1024]:
        raise ValueError(NOT_A_PDF)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        attachments = reader.attachments
        return _attachment(attachments, EVALUATION_ATTACHMENT), _attachment(
            attachments, SIGNATURE_ATTACHMENT
        )
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.info("unreadable PDF submitted for verification: %s", exc)
        raise ValueError(NOT_A_PDF) from exc


def inspect_pdf(data: bytes, public_key) -> Verdict:
    """Verify the embedded JSON's hash and signature with ``public_key`` (offline)."""
    try:
        evaluation_json, signature_json = read_attachments(data)
    except ValueError:
        return Verdict(False, NOT_A_PDF)
    if evaluation_json is None:
        return Verdict(False, NO_EVALUATION)
    digest = integrity.sha256_hex(evaluation_json)
    if signature_json is None:
        return Verdict(False, NO_SIGNATURE, json_sha256=digest)
    try:
        # Bounded: the file is the caller's, and so is the nesting of its JSON.
        signed = bounded.loads(signature_json, max_bytes=SIGNATURE_MAX_BYTES)
        if not isinstance(signed, dict):
            raise ValueError("not an object")
    except ValueError:  # malformed, too large or too deeply nested: no usable signature
        return Verdict(False, NO_SIGNATURE, json_sha256=digest)
    verdict = Verdict(
        False,
        "",
        json_sha256=digest,
        signature=str(signed.get("signature", "")),
        key_fingerprint=str(signed.get("public_key_fingerprint", "")),
        report=str(signed.get("report", "")),
    )
    if signed.get("json_sha256") != digest:
        verdict.reason = ALTERED
        return verdict
    if not integrity.verify(evaluation_json, verdict.signature, public_key):
        verdict.reason = BAD_SIGNATURE
        return verdict
    verdict.authentic = True
    verdict.reason = AUTHENTIC
    return verdict
