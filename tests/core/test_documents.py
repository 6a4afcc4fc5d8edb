"""Documents are stored under their SHA-256 with their size; anything too big,
empty, of another type or whose bytes do not match its name is refused and
nothing is stored."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Document
from applications.services import IllegalTransition, PermissionDenied, ValidationError, content
from sandbox_portal.audit.models import AuditEvent


def stored_files(settings):
    root = settings.MEDIA_ROOT
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def upload(app, actor, name, data, kind="risk_assessment"):
    return content.upload_document(
        app, actor=actor, kind=kind, uploaded=SimpleUploadedFile(name, data)
    )


def test_it_stores_a_document_under_its_sha256_with_its_size(people, case_in, settings):
    app = case_in("under_review")
    data = b"%PDF-1.7\n" + b"risk " * 1000
    document = upload(app, people.amir, "Risk assessment.pdf", data)
    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.size == len(data)
    assert document.content_type == "application/pdf"
    assert document.original_name == "Risk assessment.pdf"
    assert document.file.name == f"documents/{app.pk}/{document.sha256}"
    assert (settings.MEDIA_ROOT / document.file.name).read_bytes() == data
    event = AuditEvent.objects.get(action="document.upload", object_id=str(document.pk))
    assert event.actor_id == people.amir.pk
    assert event.after["sha256"] == document.sha256
    assert event.application_id == app.pk


@pytest.mark.parametrize(
    "name, data",
    [
        ("notes.txt", "Plain UTF-8 text, with a pound sign: \u00a3.".encode()),
        ("data.csv", b"a,b\n1,2\n"),
        ("diagram.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("plan.docx", b"PK\x03\x04" + b"\x00" * 20),
    ],
)
def test_it_accepts_every_type_whose_bytes_match_its_name(people, case_in, name, data):
    document = upload(case_in("draft"), people.alice, name, data)
    assert document.size == len(data)


def test_a_regulator_may_add_a_document_to_a_case(people, case_in):
    document = upload(case_in("under_review"), people.olivia, "minutes.txt", b"Meeting notes.")
    assert document.uploaded_by == people.olivia


REFUSED = [
    ("empty.pdf", b"", "empty"),
    ("tool.exe", b"MZ\x90\x00 an executable", "not accepted"),
    ("no-extension", b"%PDF-1.4 a pdf in disguise", "not accepted"),
    ("paper.pdf", b"<html>not a pdf</html>", "does not match"),
    ("notes.txt", b"text\x00\x01\x02 with binary inside", "does not match"),
    ("notes.txt", b"\xff\xfe\xfd invalid utf-8 " + b"x" * 100, "does not match"),
    ("picture.png", b"%PDF-1.4 a pdf named as a png", "does not match"),
]


@pytest.mark.parametrize("name, data, message", REFUSED)
def test_it_refuses_a_bad_file_and_stores_nothing(people, case_in, settings, name, data, message):
    app = case_in("draft")
    files, rows, events = (
        stored_files(settings),
        Document.objects.count(),
        AuditEvent.objects.count(),
    )
    with pytest.raises(ValidationError, match=message):
        upload(app, people.alice, name, data)
    assert stored_files(settings) == files
    assert Document.objects.count() == rows
    assert AuditEvent.objects.count() == events


def test_it_refuses_a_file_over_the_limit_and_names_both_sizes(people, case_in, settings):
    settings.DOCUMENT_MAX_BYTES = 2 * 1024 * 1024
    app = case_in("draft")
    files = stored_files(settings)
    data = b"%PDF-1.4\n" + b"x" * (3 * 1024 * 1024)
    with pytest.raises(ValidationError) as refused:
        upload(app, people.alice, "huge.pdf", data)
    assert "3.0\xa0MB" in refused.value.messages[0]
    assert "2.0\xa0MB" in refused.value.messages[0]
    assert stored_files(settings) == files
    assert not Document.objects.filter(application=app).exists()
    # A file of exactly the limit is accepted.
    exact = b"%PDF-1.4\n" + b"x" * (settings.DOCUMENT_MAX_BYTES - 9)
    assert upload(app, people.alice, "exact.pdf", exact).size == settings.DOCUMENT_MAX_BYTES


def test_it_refuses_an_unknown_kind_of_document(people, case_in, settings):
    app = case_in("draft")
    files = stored_files(settings)
    with pytest.raises(ValidationError, match="kind"):
        upload(app, people.alice, "a.pdf", b"%PDF-1.4", kind="selfie")
    assert stored_files(settings) == files


@pytest.mark.parametrize("username", ["bella", "audrey", "staff"])
def test_it_refuses_a_document_from_outside_the_case_and_stores_nothing(
    people, case_in, settings, username
):
    app = case_in("submitted")
    files = stored_files(settings)
    with pytest.raises(PermissionDenied):
        upload(app, getattr(people, username), "a.pdf", b"%PDF-1.4 hello")
    assert stored_files(settings) == files
    assert not Document.objects.filter(application=app).exists()


def test_it_refuses_a_document_on_a_closed_case(people, case_in, settings):
    app = case_in("withdrawn")
    files = stored_files(settings)
    with pytest.raises(IllegalTransition):
        upload(app, people.alice, "late.pdf", b"%PDF-1.4 late")
    assert stored_files(settings) == files


def test_it_removes_the_stored_file_when_the_upload_fails_after_saving_it(
    people, case_in, settings, monkeypatch
):
    app = case_in("draft")
    files = stored_files(settings)

    def audit_fails(**kwargs):
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(content, "record", audit_fails)
    with pytest.raises(RuntimeError):
        upload(app, people.alice, "a.pdf", b"%PDF-1.4 orphan?")
    assert stored_files(settings) == files
    assert not Document.objects.filter(application=app).exists()


def test_it_keeps_two_uploads_of_the_same_bytes_apart(people, case_in, settings):
    app = case_in("draft")
    first = upload(app, people.alice, "a.pdf", b"%PDF-1.4 same")
    second = upload(app, people.amir, "b.pdf", b"%PDF-1.4 same")
    assert first.sha256 == second.sha256
    assert first.file.name != second.file.name
    assert (settings.MEDIA_ROOT / first.file.name).exists()
    assert (settings.MEDIA_ROOT / second.file.name).exists()
