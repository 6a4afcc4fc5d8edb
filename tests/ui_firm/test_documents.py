"""Uploading a case's documents and downloading them, every download audited."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Document
from sandbox_portal.audit.models import AuditEvent

from .conftest import PDF

pytestmark = pytest.mark.django_db


def upload(client, app, name, data, kind="legal_opinion"):
    return client.post(
        reverse("document-upload", args=[app.pk]),
        {"kind": kind, "file": SimpleUploadedFile(name, data)},
    )


def test_it_uploads_a_pdf(people, as_user, draft_a):
    client = as_user("alice")
    assert client.get(reverse("document-upload", args=[draft_a.pk])).status_code == 200
    response = upload(client, draft_a, "opinion.pdf", PDF)
    assert response.status_code == 302
    assert response["Location"] == reverse("case-detail", args=[draft_a.pk])
    document = Document.objects.get(application=draft_a, original_name="opinion.pdf")
    assert document.kind == "legal_opinion"
    assert document.content_type == "application/pdf"
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.uploaded_by == people.alice
    assert AuditEvent.objects.filter(
        action="document.upload", object_id=str(document.pk), application_id=draft_a.pk
    ).exists()


def test_a_regulator_can_add_a_document_to_a_submitted_case(as_user, submitted_a):
    response = upload(as_user("olivia"), submitted_a, "note.txt", b"Screening notes.\n", "other")
    assert response.status_code == 302
    assert Document.objects.filter(original_name="note.txt").exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("opinion.pdf", b"MZ\x90\x00 this is not a pdf", b"does not match its name"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00", b"not accepted"),
        ("empty.pdf", b"", b"empty"),
    ],
)
def test_it_refuses_a_file_that_is_not_what_it_claims(as_user, draft_a, name, data, message):
    before = Document.objects.count()
    response = upload(as_user("alice"), draft_a, name, data)
    assert response.status_code == 400
    assert "file" in response.context["form"].errors
    assert message in response.content
    assert Document.objects.count() == before
    assert not AuditEvent.objects.filter(action="document.upload", after__name=name).exists()


def test_it_refuses_a_file_over_the_size_limit(settings, as_user, draft_a):
    settings.DOCUMENT_MAX_BYTES = 64
    before = Document.objects.count()
    response = upload(as_user("alice"), draft_a, "big.pdf", PDF + b"0" * 100)
    assert response.status_code == 400
    assert b"the limit is" in response.content
    assert Document.objects.count() == before


def test_it_refuses_an_upload_without_a_file(as_user, draft_a):
    before = Document.objects.count()
    response = as_user("alice").post(
        reverse("document-upload", args=[draft_a.pk]), {"kind": "other"}
    )
    assert response.status_code == 400
    assert Document.objects.count() == before


def test_it_refuses_uploads_to_an_auditor(as_user, submitted_a):
    client = as_user("audrey")
    assert client.get(reverse("document-upload", args=[submitted_a.pk])).status_code == 403
    before = Document.objects.count()
    assert upload(client, submitted_a, "x.pdf", PDF).status_code == 403
    assert Document.objects.count() == before


def test_it_refuses_uploads_to_a_withdrawn_case(people, as_user, draft_a):
    from applications.services import lifecycle

    lifecycle.withdraw(draft_a, actor=people.alice, reason="Not ready.")
    before = Document.objects.count()
    response = upload(as_user("alice"), draft_a, "late.pdf", PDF)
    assert response.status_code == 409
    assert b"withdrawn" in response.content
    assert Document.objects.count() == before


def test_it_hides_firm_a_cases_and_documents_from_firm_b(as_user, draft_a):
    client = as_user("bella")
    before = Document.objects.count()
    assert client.get(reverse("document-upload", args=[draft_a.pk])).status_code == 404
    assert upload(client, draft_a, "x.pdf", PDF).status_code == 404
    assert Document.objects.count() == before
    document = draft_a.documents.get()
    assert client.get(reverse("document-download", args=[document.pk])).status_code == 404


def test_the_firm_downloads_its_document(people, as_user, draft_a):
    document = draft_a.documents.get()
    response = as_user("amir").get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="paper.pdf"'
    assert b"".join(response.streaming_content) == b"%PDF-1.4\n% white paper\n"
    event = AuditEvent.objects.get(action="document.download")
    assert (event.actor, event.object_id) == (people.amir, str(document.pk))


def test_the_assigned_auditor_downloads_and_the_download_is_audited(people, as_user, submitted_a):
    document = submitted_a.documents.get()
    response = as_user("audrey").get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    event = AuditEvent.objects.get(action="document.download")
    assert event.actor == people.audrey
    assert event.application_id == submitted_a.pk
    assert event.after == {"sha256": document.sha256}


def test_an_unassigned_auditor_cannot_download(as_user, submitted_a):
    document = submitted_a.documents.get()
    response = as_user("ursula").get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="document.download").exists()


def test_a_regulator_cannot_download_a_draft_document(as_user, draft_a):
    document = draft_a.documents.get()
    response = as_user("olivia").get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 404


def test_it_refuses_to_download_by_post(as_user, draft_a):
    document = draft_a.documents.get()
    response = as_user("alice").post(reverse("document-download", args=[document.pk]))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action="document.download").exists()


def test_it_sends_anonymous_visitors_to_log_in(client, draft_a):
    document = draft_a.documents.get()
    for url in [
        reverse("document-upload", args=[draft_a.pk]),
        reverse("document-download", args=[document.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not AuditEvent.objects.filter(action="document.download").exists()
