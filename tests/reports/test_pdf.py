"""The rendered report: PDF/A-3 with its evaluation and signature embedded, verifiable,
and rendered without a single network request."""

import io
import json
import re

import pytest
from pypdf import PdfReader

from assessments.reports import integrity, render, services, verification

from .conftest import TEST_KEY
from .helpers import replace_attachment

pytestmark = pytest.mark.django_db


def _text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_declares_pdf_a_3(rendered):
    reader = PdfReader(io.BytesIO(rendered.pdf))
    xmp = reader.xmp_metadata.stream.get_data().decode()
    assert re.search(r'pdfaid:part="3"', xmp)
    assert re.search(r'pdfaid:conformance="B"', xmp)
    assert "/AF" in reader.trailer["/Root"]


def test_the_pdf_embeds_the_canonical_json_and_the_signature(rendered):
    attachments = PdfReader(io.BytesIO(rendered.pdf)).attachments
    embedded = attachments["evaluation.json"][0]
    assert embedded == rendered.canonical_json.encode("utf-8")
    assert integrity.sha256_hex(embedded) == rendered.sha256
    signed = json.loads(attachments["signature.json"][0])
    assert signed["json_sha256"] == rendered.sha256
    assert signed["signature"] == rendered.signature
    assert signed["public_key_fingerprint"] == integrity.fingerprint(TEST_KEY.public_key())


def test_the_pdf_prints_the_hash_signature_and_fingerprint(rendered):
    text = re.sub(r"\s+", "", _text(rendered.pdf))
    assert rendered.sha256 in text
    assert rendered.signature in text
    assert rendered.fingerprint in text


def test_the_report_has_every_chapter_and_page_x_of_y(rendered):
    text = _text(rendered.pdf)
    pages = len(PdfReader(io.BytesIO(rendered.pdf)).pages)
    for heading in (
        "Access evaluation report",
        "Executive summary",
        "Tier status",
        "Indicator tree",
        "Technical evidence",
        "Decision and conditions",
        "Appoint a compliance officer",
        "Verification",
    ):
        assert heading in text
    assert f"Page 2 of {pages}" in text
    assert f"Page {pages} of {pages}" in text
    assert "Throughput against offered rate" in text
    assert "Scores by dimension" in text


def test_rendering_fetches_only_shipped_static_files_and_never_the_network(rendered):
    assert rendered.network_attempts == []
    assert rendered.fetcher.refused == []
    fonts = [url for url in rendered.fetcher.served if "/static/reports/fonts/" in url]
    assert fonts, "the report must use the fonts shipped with the project"


def test_a_template_pointing_at_the_network_causes_no_request(monkeypatch):
    from .conftest import NetworkGuard

    guard = NetworkGuard(monkeypatch)
    fetcher = render.StaticFileFetcher()
    html = (
        "<html><head><style>@font-face { font-family: X; src: url(https://example.com/x.woff) }"
        "body { background: url(//example.com/bg.png) }</style>"
        '<link rel="stylesheet" href="http://example.com/style.css"></head>'
        '<body><p>Hello</p><img src="http://example.com/x.png">'
        '<img src="file:///etc/passwd"></body></html>'
    )
    pdf = render.write_pdf(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert guard.attempts == []
    assert "http://example.com/x.png" in fetcher.refused
    assert "http://example.com/style.css" in fetcher.refused
    assert "file:///etc/passwd" in fetcher.refused


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/static/reports/fonts/DejaVuSans.ttf",
        "https://report.invalid/static/../sandbox_portal/settings.py",
        "https://report.invalid/media/reports/secret.pdf",
        "file:///etc/passwd",
        "ftp://report.invalid/static/reports/fonts/DejaVuSans.ttf",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    fetcher = render.StaticFileFetcher()
    with pytest.raises(render.FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_a_shipped_font_from_disk():
    fetcher = render.StaticFileFetcher()
    response = fetcher.fetch("https://report.invalid/static/reports/fonts/DejaVuSans.ttf")
    assert response.read(4) == b"\x00\x01\x00\x00"
    response.close()


def test_the_issued_pdf_verifies(rendered, issued_like_rendered, ready_report):
    verdict = services.verify_report(rendered.pdf)
    assert verdict.authentic, verdict.reason
    assert verdict.reason == verification.AUTHENTIC
    assert verdict.evaluation["id"] == issued_like_rendered.pk
    assert verdict.evaluation["case_reference"] == issued_like_rendered.application.reference
    assert verdict.report == ready_report.number
    assert verdict.evaluation["version"] == 1


def test_it_rejects_a_pdf_with_one_byte_of_its_evaluation_changed(rendered, issued_like_rendered):
    def change_one_character(data):
        index = data.index(b'"reference":"') + len(b'"reference":"')
        assert data[index : index + 1] == b"S"
        return data[:index] + b"T" + data[index + 1 :]

    altered = replace_attachment(rendered.pdf, "evaluation.json", change_one_character)
    assert PdfReader(io.BytesIO(altered)).attachments["evaluation.json"][0] != (
        rendered.canonical_json.encode()
    )
    verdict = services.verify_report(altered)
    assert not verdict.authentic
    assert verdict.reason == "embedded evaluation altered (hash mismatch)"


@pytest.mark.parametrize("where", [0.25, 0.5, 0.75])
def test_the_portal_rejects_a_pdf_changed_outside_its_signed_evaluation(
    rendered, issued_like_rendered, ready_report, where
):
    # One byte flipped in the page content, fonts or structure: the embedded evaluation and
    # its signature are intact, but the file is not the one the portal issued.
    data = bytearray(rendered.pdf)
    evaluation_at = data.find(rendered.canonical_json.encode()[:40])
    index = int(len(data) * where)
    if evaluation_at <= index < evaluation_at + len(rendered.canonical_json):
        index = evaluation_at - 1
    data[index] ^= 0x01
    # Offline, only the embedded evaluation is checked, and it is intact...
    assert verification.inspect_pdf(bytes(data), TEST_KEY.public_key()).authentic
    # ...but the portal knows the file it issued.
    verdict = services.verify_report(bytes(data))
    assert not verdict.authentic
    assert verdict.reason == verification.FILE_CHANGED
    assert verdict.evaluation["id"] == issued_like_rendered.pk


def test_it_rejects_an_evaluation_re_signed_with_another_key(rendered, issued_like_rendered):
    forger = integrity.generate_private_key()
    forged = rendered.canonical_json.replace('"reference":"S', '"reference":"T', 1).encode()
    assert forged != rendered.canonical_json.encode()
    signed = {
        "algorithm": "Ed25519",
        "json_sha256": integrity.sha256_hex(forged),
        "signature": integrity.sign(forged, forger),
        "public_key_fingerprint": integrity.fingerprint(forger.public_key()),
    }
    pdf = replace_attachment(rendered.pdf, "evaluation.json", lambda _: forged)
    pdf = replace_attachment(pdf, "signature.json", lambda _: json.dumps(signed).encode())
    verdict = services.verify_report(pdf)
    assert not verdict.authentic
    assert verdict.reason == "signature invalid (signed by another key)"


def test_it_rejects_an_unrelated_pdf(db):
    unrelated = render.write_pdf("<h1>Quarterly newsletter</h1><p>Nothing to see.</p>")
    verdict = services.verify_report(unrelated)
    assert not verdict.authentic
    assert verdict.reason == "no embedded evaluation"


@pytest.mark.parametrize("data", [b"", b"GIF89a not a pdf", b"%PDF-1.7\n garbage without a body"])
def test_it_rejects_what_is_not_a_pdf(db, data):
    verdict = services.verify_report(data)
    assert not verdict.authentic
    assert verdict.reason == "not a PDF"


def test_it_rejects_an_authentic_signature_over_an_evaluation_this_portal_never_issued(
    rendered,
):
    verdict = services.verify_report(rendered.pdf)
    assert not verdict.authentic
    assert verdict.reason == "no evaluation with this hash was issued by this portal"


def test_offline_verification_needs_only_the_public_key(rendered):
    verdict = verification.inspect_pdf(rendered.pdf, TEST_KEY.public_key())
    assert verdict.authentic
    other = integrity.generate_private_key().public_key()
    assert verification.inspect_pdf(rendered.pdf, other).reason == verification.BAD_SIGNATURE
