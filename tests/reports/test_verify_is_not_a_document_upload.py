"""The portal's own signed reports embed their evaluation (PDF/A-3 attachments), which a
case document may not carry; verifying a report is not a document upload and still works."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from applications.services import ValidationError, content, pdf_content
from tests.conftest import login

pytestmark = pytest.mark.django_db


def _upload(data):
    return SimpleUploadedFile("report.pdf", data, content_type="application/pdf")


def test_a_signed_report_is_verified_by_page_and_api_though_it_embeds_files(
    client, people, issued_like_rendered, ready_report, rendered, draft_a
):
    assert b"EmbeddedFiles" in pdf_content.active_content(rendered.pdf)
    with pytest.raises(ValidationError, match="embedded files"):
        content.upload_document(
            draft_a, actor=people.alice, kind="other", uploaded=_upload(rendered.pdf)
        )
    api = APIClient()
    login(api, people.audrey)
    response = api.post(
        "/api/v1/reports/verify/", {"file": _upload(rendered.pdf)}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert response.json()["authentic"] is True
    login(client, people.bella)
    response = client.post(reverse("report-verify"), {"file": _upload(rendered.pdf)})
    assert response.status_code == 200
    assert b"authentic and unaltered" in response.content
