"""A PDF carrying active content (JavaScript, launch or form actions, embedded files, rich
media, XFA) is refused as a case document, through the service, the page and the API,
however its names are spelled and wherever they hide; a plain PDF is stored."""

import random
import zlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from applications.demo.pdf import pdf_bytes
from applications.models import Document
from applications.services import ValidationError, content, pdf_content
from assessments.reports import render
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login


def pdf_with(*objects, catalog_extra=b""):
    """A small PDF whose catalog carries ``catalog_extra`` and which holds ``objects``
    (numbered from 3) after its page tree."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    for number, body in enumerate(bodies, start=1):
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    out += b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    return bytes(out)


def stream(data, filters=b"/FlateDecode"):
    return b"<< /Length %d /Filter %s >>\nstream\n" % (len(data), filters) + data + b"\nendstream"


def object_stream(objects_text, compress=zlib.compress):
    """A compressed object stream (PDF 1.5) holding ``objects_text`` as object 10."""
    header = b"10 0 "
    data = compress(header + objects_text)
    return (
        b"<< /Type /ObjStm /N 1 /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
        % (len(header), len(data))
        + data
        + b"\nendstream"
    )


JS_ACTION = b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"
ACTIVE = {
    "javascript": pdf_with(catalog_extra=JS_ACTION),
    "launch": pdf_with(catalog_extra=b"/OpenAction << /S /Launch /F (calc.exe) >>"),
    "embedded-file": pdf_with(
        b"<< /Type /EmbeddedFile /Length 5 >>\nstream\nhello\nendstream",
        catalog_extra=b"/Names << /EmbeddedFiles << /Names [(a.exe) 3 0 R] >> >>",
    ),
    "hex-escaped": pdf_with(catalog_extra=b"/OpenAction << /S /J#61vaScript /#4a#53 (x) >>"),
    "in-a-flate-object-stream": pdf_with(
        object_stream(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        catalog_extra=b"/OpenAction 10 0 R",
    ),
    "flate-inside-flate": pdf_with(
        object_stream(b"<< /S /Launch /F (cmd) >>", lambda d: zlib.compress(zlib.compress(d))),
        catalog_extra=b"/OpenAction 10 0 R",
    ),
    "escaped-inside-flate": pdf_with(
        stream(zlib.compress(b"<< /S /#53ubmitForm /F (https://x.test) >>")),
    ),
    "additional-actions": pdf_with(b"<< /Type /Page /AA << /O 4 0 R >> >>"),
    "rich-media": pdf_with(b"<< /Type /Annot /Subtype /RichMedia >>"),
    "xfa": pdf_with(catalog_extra=b"/AcroForm << /XFA 3 0 R >>"),
    "import-data": pdf_with(b"<< /S /ImportData /F (data.fdf) >>"),
    "actions-after-a-comment": pdf_with(b"<< /Type /Page /AA %note\n  <</O 4 0 R>> >>"),
    "script-by-reference": pdf_with(b"<< /JS 5 0 R >>"),
    "script-after-a-long-gap": pdf_with(b"<< /JS" + b" " * 300 + b"(x) >>"),
}
EXPECTED = {
    "javascript": "JavaScript (/JavaScript, /JS)",
    "launch": "a launch action (/Launch)",
    "embedded-file": "embedded files (/EmbeddedFile, /EmbeddedFiles)",
    "hex-escaped": "JavaScript (/JavaScript, /JS)",
    "in-a-flate-object-stream": "JavaScript (/JavaScript, /JS)",
    "flate-inside-flate": "a launch action (/Launch)",
    "escaped-inside-flate": "a form submission action (/SubmitForm)",
    "additional-actions": "automatic actions (/AA)",
    "rich-media": "rich media (/RichMedia)",
    "xfa": "an XFA form (/XFA)",
    "import-data": "a data import action (/ImportData)",
    "actions-after-a-comment": "automatic actions (/AA)",
    "script-by-reference": "JavaScript (/JS)",
    "script-after-a-long-gap": "JavaScript (/JS)",
}


def upload(app, actor, data, name="paper.pdf"):
    return content.upload_document(
        app, actor=actor, kind="white_paper", uploaded=SimpleUploadedFile(name, data)
    )


def stored():
    """What a refused upload must leave as it was: documents, their files, their events."""
    files = sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    events = AuditEvent.objects.filter(action="document.upload").count()
    return Document.objects.count(), files, events


# The scanner ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(ACTIVE))
def test_the_scanner_names_what_it_found(case):
    found = pdf_content.active_content(ACTIVE[case])
    assert EXPECTED[case] in pdf_content.describe(found)
    assert "upload a PDF without active content" in pdf_content.describe(found)


@pytest.mark.parametrize(
    "data",
    [
        pdf_bytes("Risk assessment", ["About JavaScript, launches and attachments."]),
        pdf_with(b"<< /Type /Font /JSON /AAB /XFAX /OpenAction [2 0 R /Fit] >>"),
        # The two-letter keys without a value that would make them act.
        pdf_with(b"<< /Names [/AA /JS] /K /AA>> % /JS\n>>"),
        pdf_with(stream(zlib.compress(b"BT /F1 12 Tf (JavaScript /JSX) Tj ET"))),
        pdf_with(stream(b"\x78\x9c not really zlib /Launcher")),
    ],
    ids=["demo-document", "lookalike-names", "bare-keys", "compressed-text", "broken-stream"],
)
def test_the_scanner_finds_nothing_in_a_pdf_without_active_content(data):
    assert pdf_content.active_content(data) == []


def test_a_real_pdf_from_the_report_renderer_is_plain():
    # WeasyPrint compresses its content streams: a PDF with text, fonts and a link.
    assert pdf_content.active_content(render.write_pdf("<h1>Plan</h1><p>Text.</p>")) == []


@pytest.mark.parametrize("offset", range(0, 24))
def test_a_name_cut_at_any_chunk_boundary_is_still_found(monkeypatch, offset):
    monkeypatch.setattr(pdf_content, "_STEP", 16)
    padding = b"%" + b"x" * offset + b"\n"
    assert pdf_content.active_content(pdf_with(padding + b"<< /S /J#61vaScript >>")) == [
        b"JavaScript"
    ]
    compressed = pdf_with(stream(zlib.compress(padding + b"<< /S /Launch >>")))
    assert pdf_content.active_content(compressed) == [b"Launch"]


@pytest.mark.parametrize("offset", range(0, 24))
def test_a_key_and_its_value_cut_at_any_chunk_boundary_are_read_together(monkeypatch, offset):
    monkeypatch.setattr(pdf_content, "_STEP", 16)
    padding = b"%" + b"x" * offset + b"\n"
    assert pdf_content.active_content(pdf_with(padding + b"<< /AA %c\n <<>> >>")) == [b"AA"]
    assert pdf_content.active_content(pdf_with(padding + b"<< /AA /JS >>")) == []


def test_random_binary_data_is_not_taken_for_active_content():
    # Image and compressed data hold every three-byte sequence by chance.
    data = random.Random(7).randbytes(4 * 1024 * 1024)
    assert pdf_content.active_content(b"%PDF-1.7\n" + data.replace(b"stream", b"")) == []


def test_a_name_split_by_a_chunk_is_not_mistaken_for_a_shorter_one(monkeypatch):
    monkeypatch.setattr(pdf_content, "_STEP", 16)
    for offset in range(16):
        data = b"%PDF-1.7\n" + b" " * offset + b"<< /JSON 1 /AAB 2 >>"
        assert pdf_content.active_content(data) == []


def test_compression_nested_deeper_than_it_follows_is_refused():
    data = b"<< /S /JavaScript >>"
    for _ in range(pdf_content.MAX_NESTING + 1):
        data = zlib.compress(data)
    with pytest.raises(pdf_content.TooMuchToInspect):
        pdf_content.active_content(pdf_with(stream(data)))


def test_millions_of_tiny_streams_are_refused_in_bounded_time(monkeypatch):
    monkeypatch.setattr(pdf_content, "INFLATE_BUDGET", 1024 * 1024)
    with pytest.raises(pdf_content.TooMuchToInspect):
        pdf_content.active_content(b"%PDF-1.7\n" + b"stream\nx\x9c" * 100_000)


def test_a_compression_bomb_is_refused_not_inflated_without_bound(monkeypatch):
    monkeypatch.setattr(pdf_content, "INFLATE_BUDGET", 1024 * 1024)
    bomb = pdf_with(stream(zlib.compress(b"\x00" * (4 * 1024 * 1024), 9)))
    assert len(bomb) < 10_000
    with pytest.raises(pdf_content.TooMuchToInspect):
        pdf_content.active_content(bomb)


# Through the service, the page and the API ---------------------------------------------


def test_a_plain_pdf_is_stored(people, draft_a):
    data = pdf_bytes("Risk assessment", ["A plain document."])
    document = upload(draft_a, people.alice, data)
    assert document.size == len(data)


@pytest.mark.parametrize("case", sorted(ACTIVE))
def test_the_service_refuses_a_pdf_with_active_content_and_stores_nothing(people, draft_a, case):
    before = stored()
    with pytest.raises(ValidationError) as refused:
        upload(draft_a, people.alice, ACTIVE[case])
    assert EXPECTED[case] in refused.value.messages[0]
    assert stored() == before


def test_the_service_refuses_a_compression_bomb_with_a_reason(people, draft_a, monkeypatch):
    monkeypatch.setattr(pdf_content, "INFLATE_BUDGET", 1024 * 1024)
    bomb = pdf_with(stream(zlib.compress(b"\x00" * (4 * 1024 * 1024), 9)))
    with pytest.raises(ValidationError, match="more than the portal inspects"):
        upload(draft_a, people.alice, bomb)


@pytest.mark.parametrize("case", ["javascript", "hex-escaped", "in-a-flate-object-stream"])
def test_the_page_refuses_it_with_a_form_error(client, people, draft_a, case):
    login(client, people.alice)
    before = stored()
    response = client.post(
        reverse("document-upload", args=[draft_a.pk]),
        {"kind": "white_paper", "file": SimpleUploadedFile("paper.pdf", ACTIVE[case])},
    )
    assert response.status_code == 400
    assert "upload a PDF without active content" in response.content.decode()
    assert stored() == before


@pytest.mark.parametrize("case", ["launch", "embedded-file", "flate-inside-flate"])
def test_the_api_refuses_it_with_400_naming_what_was_found(people, draft_a, case):
    api = APIClient()
    login(api, people.alice)
    before = stored()
    response = api.post(
        "/api/v1/documents/",
        {
            "application": draft_a.pk,
            "kind": "white_paper",
            "file": SimpleUploadedFile("paper.pdf", ACTIVE[case]),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert EXPECTED[case] in response.json()["detail"]
    assert stored() == before


def test_the_page_and_the_api_store_a_plain_pdf(client, people, draft_a):
    login(client, people.alice)
    plain = pdf_bytes("Legal opinion", ["Nothing active."])
    response = client.post(
        reverse("document-upload", args=[draft_a.pk]),
        {"kind": "legal_opinion", "file": SimpleUploadedFile("opinion.pdf", plain)},
    )
    assert response.status_code == 302
    api = APIClient()
    login(api, people.alice)
    response = api.post(
        "/api/v1/documents/",
        {
            "application": draft_a.pk,
            "kind": "white_paper",
            "file": SimpleUploadedFile("paper.pdf", render.write_pdf("<p>Plain.</p>")),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
