"""Journey: the auditor assigned to a case downloads its signed access-evaluation report
and checks it on the verification page; a copy with one byte flipped is not authentic."""

import hashlib
import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from assessments.reports import services as reports
from assessments.reports.integrity import EVALUATION_ATTACHMENT
from assessments.reports.models import ReportStatus
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import advance

from .pages import open_case, open_tab

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rendered_report(people, submitted_a):
    """Firm A's admitted case with its issued evaluation's report rendered and signed (by
    the service the reports worker runs)."""
    app = advance(submitted_a, people, "admitted_with_conditions")
    evaluation = app.evaluations.get(status="issued")
    report = reports.request_report(evaluation, actor=people.olivia, enqueue=False)
    report = reports.render_report(report.pk, actor=people.olivia)
    assert report.status == ReportStatus.READY, report.error
    return report


def flip_one_byte_of_the_embedded_evaluation(pdf):
    """The PDF with one byte of its embedded ``evaluation.json`` stream changed."""
    reader = PdfReader(io.BytesIO(pdf))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    spec = dict(zip(names[::2], names[1::2], strict=True))[EVALUATION_ATTACHMENT].get_object()
    raw = spec["/EF"]["/F"].get_object()._data  # the stream's bytes as stored in the file
    start = pdf.find(raw)
    assert start > 0 and len(raw) > 100
    position = start + len(raw) // 2
    tampered = bytearray(pdf)
    tampered[position] ^= 0x01
    return bytes(tampered)


def test_an_auditor_downloads_the_report_and_verifies_it_and_a_tampered_copy(
    open_as, people, rendered_report, upload_file
):
    report = rendered_report
    app = report.evaluation.application
    page = open_as(people.audrey)

    # From the auditor's dashboard to the evaluation and its report.
    open_case(page, app, via="Dashboard")
    open_tab(page, "Technical tier")
    page.locator("#evaluations").get_by_role("link", name="Version 1").click()
    reports_section = page.locator("#evaluation-reports")
    expect(reports_section).to_contain_text(report.number)
    with page.expect_download() as download_info:
        reports_section.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == report.filename
    pdf = download.path().read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == report.pdf_sha256
    assert AuditEvent.objects.filter(
        action="report.download", actor=people.audrey, object_id=str(report.pk)
    ).exists()

    # The copy as downloaded is authentic and names its case and evaluation.
    reports_section.get_by_role("link", name="the verification page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify an access-evaluation report")
    page.get_by_label("Report PDF").set_input_files(upload_file(report.filename, pdf))
    page.get_by_role("button", name="Verify").click()
    verdict = page.locator("#verdict")
    expect(verdict).to_contain_text("The report is authentic and unaltered.")
    expect(verdict.locator(".badge")).to_have_text("Authentic")
    expect(verdict).to_contain_text(app.reference)
    expect(verdict).to_contain_text(report.evaluation.sha256)

    # One byte flipped in the signed evaluation it carries: not authentic.
    tampered = flip_one_byte_of_the_embedded_evaluation(pdf)
    assert sum(a != b for a, b in zip(pdf, tampered, strict=True)) == 1
    page.get_by_label("Report PDF").set_input_files(upload_file("tampered.pdf", tampered))
    page.get_by_role("button", name="Verify").click()
    expect(verdict.locator(".badge")).to_have_text("Not authentic")
    expect(verdict).not_to_contain_text("authentic and unaltered")
    expect(verdict).not_to_contain_text(app.reference)
