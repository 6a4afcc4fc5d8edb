"""Who downloads which report, every download audited; verifying a PDF through the API,
the /verify page and ``manage.py verify_report``."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from assessments.reports import integrity, render
from assessments.reports.models import AccessEvaluationReport
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login

from .conftest import TEST_KEY
from .helpers import replace_attachment

pytestmark = pytest.mark.django_db

API = "/api/v1/reports"


def api_client(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def page_client(client, user):
    return login(client, user)


def downloads(report):
    return AuditEvent.objects.filter(action="report.download", object_id=str(report.pk))


@pytest.mark.parametrize("who", ["alice", "amir", "audrey", "olivia", "victor", "staff"])
def test_the_firm_its_regulators_and_its_assigned_auditor_download_through_the_api(
    people, ready_report, rendered, who
):
    user = getattr(people, who)
    response = api_client(user).get(f"{API}/{ready_report.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == rendered.pdf
    event = downloads(ready_report).get()
    assert event.actor == user
    assert event.application_id == ready_report.evaluation.application_id


@pytest.mark.parametrize("who", ["ursula", "bella"])
def test_another_auditor_or_another_firm_gets_404_and_nothing_is_audited(people, ready_report, who):
    client = api_client(getattr(people, who))
    assert client.get(f"{API}/{ready_report.pk}/download/").status_code == 404
    assert client.get(f"{API}/{ready_report.pk}/").status_code == 404
    assert client.get(f"{API}/").json()["count"] == 0
    assert not downloads(ready_report).exists()


def test_anonymous_callers_cannot_download(ready_report):
    assert APIClient().get(f"{API}/{ready_report.pk}/download/").status_code in (401, 403)
    assert not downloads(ready_report).exists()


def test_a_report_still_rendering_cannot_be_downloaded(people, issued_like_rendered):
    report = AccessEvaluationReport.objects.create(
        evaluation=issued_like_rendered, requested_by=people.olivia
    )
    response = api_client(people.alice).get(f"{API}/{report.pk}/download/")
    assert response.status_code == 409
    assert not downloads(report).exists()


def test_the_api_lists_and_shows_a_report_with_its_hashes(people, ready_report):
    client = api_client(people.audrey)
    listed = client.get(f"{API}/").json()
    assert [r["id"] for r in listed["results"]] == [ready_report.pk]
    detail = client.get(f"{API}/{ready_report.pk}/").json()
    assert detail["status"] == "ready"
    assert detail["json_sha256"] == ready_report.json_sha256
    assert detail["download_url"].endswith(f"/api/v1/reports/{ready_report.pk}/download/")


def test_a_regulator_requests_a_report_through_the_api(people, issued_like_rendered, monkeypatch):
    from assessments.reports import tasks

    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    response = api_client(people.olivia).post(
        f"{API}/", {"evaluation": issued_like_rendered.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"


@pytest.mark.parametrize("who, status", [("alice", 403), ("audrey", 403), ("bella", 404)])
def test_others_cannot_request_a_report_through_the_api(people, issued_like_rendered, who, status):
    response = api_client(getattr(people, who)).post(
        f"{API}/", {"evaluation": issued_like_rendered.pk}, format="json"
    )
    assert response.status_code == status
    assert not AccessEvaluationReport.objects.exists()


def test_the_page_download_is_scoped_and_audited(client, people, ready_report, rendered):
    url = reverse("report-download", args=[ready_report.pk])
    response = page_client(client, people.audrey).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == rendered.pdf
    assert downloads(ready_report).count() == 1
    client.logout()
    assert page_client(client, people.ursula).get(url).status_code == 404
    assert page_client(client, people.bella).get(url).status_code == 404
    assert downloads(ready_report).count() == 1


def test_the_report_page_shows_progress_until_ready(client, people, issued_like_rendered):
    report = AccessEvaluationReport.objects.create(
        evaluation=issued_like_rendered, requested_by=people.olivia, progress=40
    )
    page = page_client(client, people.alice).get(reverse("report-detail", args=[report.pk]))
    assert page.status_code == 200
    assert b'hx-trigger="every 1s"' in page.content
    assert b"40%" in page.content
    assert b"report-download" not in page.content


def test_the_report_page_of_a_ready_report_links_the_download(client, people, ready_report):
    page = page_client(client, people.alice).get(reverse("report-detail", args=[ready_report.pk]))
    assert page.status_code == 200
    assert b"every 1s" not in page.content
    assert reverse("report-download", args=[ready_report.pk]).encode() in page.content


def test_a_regulator_generates_from_the_page_and_a_firm_user_cannot(
    client, people, issued_like_rendered, monkeypatch
):
    from assessments.reports import tasks

    monkeypatch.setattr(tasks, "enqueue", lambda *args: None)
    url = reverse("report-generate", args=[issued_like_rendered.pk])
    assert page_client(client, people.alice).post(url).status_code == 403
    assert not AccessEvaluationReport.objects.exists()
    client.logout()
    response = page_client(client, people.olivia).post(url)
    report = AccessEvaluationReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", args=[report.pk])


def _upload(data, name="report.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_the_api_says_an_issued_report_is_authentic_and_names_its_evaluation(
    people, issued_like_rendered, ready_report, rendered
):
    response = api_client(people.ursula).post(
        f"{API}/verify/", {"file": _upload(rendered.pdf)}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authentic"] is True
    assert body["evaluation"]["id"] == issued_like_rendered.pk
    assert body["evaluation"]["case_reference"] == issued_like_rendered.application.reference
    assert body["evaluation"]["version"] == 1
    assert body["evaluation"]["issued_at"]


def test_the_api_says_why_an_altered_report_is_not_authentic(
    people, issued_like_rendered, rendered
):
    altered = replace_attachment(
        rendered.pdf, "evaluation.json", lambda data: data.replace(b'"case":', b'"Case":', 1)
    )
    response = api_client(people.audrey).post(
        f"{API}/verify/", {"file": _upload(altered)}, format="multipart"
    )
    assert response.status_code == 200
    assert response.json()["authentic"] is False
    assert response.json()["reason"] == "embedded evaluation altered (hash mismatch)"
    assert response.json()["evaluation"] is None


def test_the_api_refuses_an_upload_over_20_mb(people, settings):
    settings.REPORT_VERIFY_MAX_BYTES = 1024
    response = api_client(people.audrey).post(
        f"{API}/verify/", {"file": _upload(b"%PDF-" + b"0" * 2048)}, format="multipart"
    )
    assert response.status_code == 400
    assert "file" in response.json()["errors"]


def test_the_api_refuses_a_verification_without_a_file(people):
    response = api_client(people.audrey).post(f"{API}/verify/", {}, format="multipart")
    assert response.status_code == 400


def test_the_verify_page_needs_a_login(client):
    response = client.get(reverse("report-verify"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_verify_page_says_authentic_for_the_issued_report(
    client, people, issued_like_rendered, ready_report, rendered
):
    page_client(client, people.bella)
    response = client.post(reverse("report-verify"), {"file": _upload(rendered.pdf)})
    assert response.status_code == 200
    assert b"authentic and unaltered" in response.content
    assert issued_like_rendered.application.reference.encode() in response.content


def test_the_verify_page_says_why_an_unrelated_pdf_is_not_authentic(client, people):
    page_client(client, people.alice)
    unrelated = render.write_pdf("<p>A letter.</p>")
    response = client.post(reverse("report-verify"), {"file": _upload(unrelated)})
    assert response.status_code == 200
    assert b"No embedded evaluation" in response.content


def test_the_verify_page_refuses_an_oversized_upload(client, people, settings):
    settings.REPORT_VERIFY_MAX_BYTES = 1024
    page_client(client, people.alice)
    response = client.post(reverse("report-verify"), {"file": _upload(b"%PDF-" + b"0" * 4096)})
    assert response.status_code == 400
    assert b"larger than" in response.content


def test_the_command_verifies_offline_with_a_public_key_file(rendered, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.pdf)
    key = tmp_path / "portal.pem"
    key.write_bytes(integrity.public_key_pem(TEST_KEY.public_key()))
    out = io.StringIO()
    call_command("verify_report", str(pdf), "--offline", "--public-key", str(key), stdout=out)
    assert "AUTHENTIC" in out.getvalue()


def test_the_command_exits_1_for_another_key_offline(rendered, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.pdf)
    other = tmp_path / "other.pem"
    other.write_bytes(integrity.public_key_pem(integrity.generate_private_key().public_key()))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_report", str(pdf), "--offline", "--public-key", str(other), stdout=out)
    assert exit_.value.code == 1
    assert "signature invalid (signed by another key)" in out.getvalue()


def test_the_command_checks_the_portal_records_when_online(
    rendered, issued_like_rendered, ready_report, tmp_path
):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.pdf)
    out = io.StringIO()
    call_command("verify_report", str(pdf), stdout=out)
    assert f"evaluation {issued_like_rendered.pk} version 1" in out.getvalue()


def test_the_command_exits_1_when_the_portal_never_issued_the_evaluation(rendered, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(rendered.pdf)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_report", str(pdf), stdout=out)
    assert exit_.value.code == 1
    assert "no evaluation with this hash was issued by this portal" in out.getvalue()


def test_the_command_exits_1_for_a_file_that_is_not_a_pdf(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_report", str(path), "--offline", stdout=out)
    assert exit_.value.code == 1
    assert "not a PDF" in out.getvalue()


def test_the_evaluation_page_lists_its_reports_and_offers_generation_to_regulators(
    client, people, ready_report
):
    url = reverse("evaluation-detail", args=[ready_report.evaluation_id])
    page = page_client(client, people.olivia).get(url)
    assert page.status_code == 200
    assert reverse("report-generate", args=[ready_report.evaluation_id]).encode() in page.content
    assert reverse("report-download", args=[ready_report.pk]).encode() in page.content
    client.logout()
    page = page_client(client, people.alice).get(url)
    assert page.status_code == 200
    assert reverse("report-download", args=[ready_report.pk]).encode() in page.content
    assert b"Generate the signed report" not in page.content
