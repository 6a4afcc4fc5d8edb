"""Uploading traces and histories through the case's page and the API; the engine-queue
task that checks them and records a test run; who may upload and who may only read."""

import hashlib
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from applications.models import State
from assessments.evaluations.inputs import engine_inputs
from assessments.models import RunStatus, TestRun
from assessments.traces import services, tasks
from assessments.traces.models import CheckStatus, TraceUpload
from sandbox_portal.audit.models import AuditEvent
from tests.conftest import login

from .helpers import example

LIST = "/api/v1/traces/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload_file(data, name="trace.jsonl"):
    return SimpleUploadedFile(name, data, content_type="application/x-ndjson")


def post_api(user, app, data, kind="consensus", name="trace.jsonl"):
    return api(user).post(
        LIST,
        {"application": app.pk, "kind": kind, "file": upload_file(data, name)},
        format="multipart",
    )


def stored_files(settings):
    root = settings.MEDIA_ROOT / "traces"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_urls_are_the_documented_ones(testing_a):
    assert reverse("api:trace-list") == LIST
    assert reverse("case-traces", args=[testing_a.pk]) == f"/cases/{testing_a.pk}/traces/"


def test_a_firm_user_uploads_on_the_page_and_the_check_records_a_run(
    client, people, testing_a, settings, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    monkeypatch.setattr(services, "_enqueue", lambda upload_id: sent.append(upload_id))
    data = example("fork")
    page = login(client, people.amir)
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post(
            reverse("case-traces", args=[testing_a.pk]),
            {"kind": "consensus", "file": upload_file(data, "node-logs.jsonl")},
        )
    upload = TraceUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("trace-detail", args=[upload.pk])
    assert sent == [upload.pk]
    assert upload.status == CheckStatus.QUEUED and upload.test_run is None
    assert upload.original_name == "node-logs.jsonl" and upload.size == len(data)
    assert upload.lines == data.count(b"\n") and upload.summary["validators"] == 4
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert [p.name for p in stored_files(settings)] == [f"{upload.sha256}.jsonl"]
    event = AuditEvent.objects.get(action="trace.upload")
    assert event.actor == people.amir and event.application_id == testing_a.pk
    assert event.after["sha256"] == upload.sha256

    # The engine worker's task (run here in-process, as the worker would).
    assert tasks.check_trace_upload.apply(args=[upload.pk]).get() == "checked"
    upload.refresh_from_db()
    run = upload.test_run
    assert upload.status == CheckStatus.CHECKED and run.status == RunStatus.SUCCEEDED
    assert run.application == testing_a and run.suites == ["consensus_trace"]
    assert run.requested_by == people.amir and run.targets == [] and run.progress == 100
    (suite_run,) = run.suite_runs.all()
    assert suite_run.suite == "consensus_trace" and suite_run.passed is False
    failed = {c["name"] for c in suite_run.result["checks"] if c["passed"] is False}
    assert failed == {"commit_agreement", "equivocation"}
    check = AuditEvent.objects.get(action="trace.check")
    assert check.after["test_run"] == run.pk and check.after["passed"] is False

    # A second delivery of the message records nothing more.
    assert services.check_upload(upload.pk) == "done already"
    assert (
        TestRun.objects.count() == 1
        and AuditEvent.objects.filter(action="trace.check").count() == 1
    )


def test_the_check_goes_to_the_engine_queue_with_the_id_only(people, testing_a, queued):
    tasks.enqueue(41)
    assert queued == [((41,), "engine")]


def test_an_evaluation_can_cite_the_recorded_run(people, testing_a):
    upload = services.upload_trace(
        testing_a, actor=people.olivia, kind="consensus", uploaded=upload_file(example("no_quorum"))
    )
    services.check_upload(upload.pk)
    upload.refresh_from_db()
    values, sources = engine_inputs(
        [upload.test_run_id],
        ["consensus_trace.checks.quorum_certificates", "consensus_trace.metrics.quorum"],
    )
    assert values == {
        "consensus_trace.checks.quorum_certificates": False,
        "consensus_trace.metrics.quorum": 3,
    }
    assert sources["consensus_trace.metrics.quorum"]["test_run"] == upload.test_run_id


def test_the_result_page_shows_checks_violations_and_the_sequence_chart(client, people, testing_a):
    upload = services.upload_trace(
        testing_a, actor=people.alice, kind="consensus", uploaded=upload_file(example("fork"))
    )
    page = login(client, people.olivia)
    queued_page = page.get(reverse("trace-detail", args=[upload.pk]))
    assert queued_page.status_code == 200 and b"Waiting for the engine" in queued_page.content
    services.check_upload(upload.pk)
    response = page.get(reverse("trace-detail", args=[upload.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="trace-verdict">failed' in body
    assert "commit_agreement" in body and "equivocation" in body
    # The first violation's height is drawn by default: the fork at height 7.
    assert "Messages at height 7" in body and body.count('fill="#c0392b"') >= 4
    other = page.get(reverse("trace-detail", args=[upload.pk]), {"height": 3}).content.decode()
    assert "Messages at height 3" in other and '#c0392b" fill-opacity' not in other
    assert (
        "no event at height 99"
        in page.get(reverse("trace-detail", args=[upload.pk]), {"height": 99}).content.decode()
    )
    bad = page.get(reverse("trace-detail", args=[upload.pk]), {"height": "-2"})
    assert bad.status_code == 400 and b"Height:" in bad.content
    upload.refresh_from_db()
    run_page = page.get(reverse("run-detail", args=[upload.test_run_id]))
    assert run_page.status_code == 200 and b"Time to commit per height" in run_page.content
    assert upload.sha256[:10].encode() in run_page.content  # the run names its input


def test_the_api_uploads_lists_and_reads_with_the_result(people, testing_a):
    response = post_api(
        people.olivia, testing_a, example("ledger_overdraft", size=6, participants=3), kind="ledger"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == "ledger" and body["status"] == "queued" and body["passed"] is None
    services.check_upload(body["id"])
    detail = api(people.alice).get(f"{LIST}{body['id']}/").json()
    assert detail["status"] == "checked" and detail["passed"] is False
    assert detail["result"]["suite"] == "ledger"
    (negative,) = next(c for c in detail["result"]["checks"] if c["name"] == "no_negative_balance")[
        "evidence"
    ]["negative"]
    assert negative["block"] == 4 and negative["account"].startswith("0x")
    listed = api(people.audrey).get(LIST, {"application": testing_a.pk}).json()
    assert [u["id"] for u in listed["results"]] == [body["id"]]
    assert api(people.bella).get(LIST).json()["results"] == []


BROKEN = {
    "malformed line": (
        lambda d: d.replace(b'"type":"prevote"', b'"type":"prevote",,', 1),
        "not valid JSON",
    ),
    "truncated file": (lambda d: d[:-30], "truncated"),
    "unknown message type": (
        lambda d: d.replace(b'"type":"precommit"', b'"type":"gossip"', 1),
        "unknown message type 'gossip'",
    ),
}


def _broken_line(data, fixed):
    for number, (a, b) in enumerate(zip(data.split(b"\n"), fixed.split(b"\n"), strict=False), 1):
        if a != b:
            return number
    return fixed.count(b"\n") + 1


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_is_refused_naming_the_line_and_nothing_is_recorded(
    case, client, people, testing_a, settings
):
    data = example("healthy")
    damage, words = BROKEN[case]
    broken = damage(data)
    line = _broken_line(broken, data) if case != "truncated file" else data.count(b"\n")
    events = AuditEvent.objects.filter(action__startswith="trace.")
    response = post_api(people.alice, testing_a, broken)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert f"line {line}:" in detail and words in detail
    page = login(client, people.alice).post(
        reverse("case-traces", args=[testing_a.pk]),
        {"kind": "consensus", "file": upload_file(broken)},
    )
    assert page.status_code == 400
    shown = html.unescape(page.content.decode())
    assert f"The file is refused at line {line}:" in shown and words in shown
    assert TraceUpload.objects.count() == 0 and TestRun.objects.count() == 0
    assert not events.exists() and stored_files(settings) == []


def test_an_oversized_upload_is_refused_naming_the_line(people, testing_a, settings):
    data = example("healthy")
    settings.TRACE_MAX_BYTES = len(b"\n".join(data.split(b"\n")[:9])) + 5  # inside line 10
    response = post_api(people.olivia, testing_a, data)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "line 10" in detail and "TRACE_MAX_BYTES" in detail
    assert TraceUpload.objects.count() == 0 and stored_files(settings) == []


def test_an_empty_file_and_an_unknown_kind_are_refused(people, testing_a):
    assert post_api(people.olivia, testing_a, b"").status_code == 400
    response = post_api(people.olivia, testing_a, example("healthy"), kind="gossip")
    assert response.status_code == 400 and TraceUpload.objects.count() == 0


def test_a_ledger_history_uploaded_as_a_consensus_trace_is_refused(people, testing_a):
    response = post_api(people.olivia, testing_a, example("ledger_healthy", size=3, participants=2))
    assert response.status_code == 400 and "line 1:" in response.json()["detail"]


def test_other_firms_and_unassigned_auditors_get_404_and_auditors_only_read(
    client, people, testing_a
):
    upload = services.upload_trace(
        testing_a, actor=people.alice, kind="consensus", uploaded=upload_file(example("healthy"))
    )
    page_url = reverse("case-traces", args=[testing_a.pk])
    detail_url = reverse("trace-detail", args=[upload.pk])
    for outsider in (people.bella, people.ursula):
        page = login(client, outsider)
        assert page.get(page_url).status_code == 404
        assert page.get(detail_url).status_code == 404
        assert page.post(page_url, {"kind": "consensus"}).status_code == 404
        assert api(outsider).get(f"{LIST}{upload.pk}/").status_code == 404
        assert post_api(outsider, testing_a, example("healthy")).status_code == 404
    auditor = login(client, people.audrey)
    listing = auditor.get(page_url)
    assert listing.status_code == 200 and b'id="trace-upload"' not in listing.content
    assert auditor.get(detail_url).status_code == 200
    assert auditor.post(page_url, {"kind": "consensus"}).status_code == 403
    assert post_api(people.audrey, testing_a, example("healthy")).status_code == 403
    assert TraceUpload.objects.count() == 1


def test_a_closed_case_takes_no_upload(people, testing_a):
    type(testing_a).objects.filter(pk=testing_a.pk).update(state=State.REJECTED)
    response = post_api(people.olivia, testing_a, example("healthy"))
    assert response.status_code == 409 and TraceUpload.objects.count() == 0


def test_a_stored_file_that_changed_is_not_checked(people, testing_a):
    upload = services.upload_trace(
        testing_a, actor=people.alice, kind="consensus", uploaded=upload_file(example("healthy"))
    )
    path = upload.file.path
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data.replace(b"node-1", b"node-9", 1))
    assert services.check_upload(upload.pk) == "failed"
    upload.refresh_from_db()
    assert upload.status == CheckStatus.FAILED and "SHA-256" in upload.error
    assert upload.test_run is None and TestRun.objects.count() == 0
    assert AuditEvent.objects.get(action="trace.check").after["status"] == "failed"


def test_uploads_left_unchecked_are_sent_again(
    people, testing_a, django_capture_on_commit_callbacks, monkeypatch
):
    import datetime

    from django.utils import timezone

    upload = services.upload_trace(
        testing_a, actor=people.alice, kind="consensus", uploaded=upload_file(example("healthy"))
    )
    sent = []
    monkeypatch.setattr(services, "_enqueue", lambda upload_id: sent.append(upload_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resend_stale_uploads() == []
    TraceUpload.objects.filter(pk=upload.pk).update(
        queued_at=timezone.now() - datetime.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resend_stale_uploads() == [upload.pk]
    assert sent == [upload.pk]


def test_an_empty_form_says_what_is_missing(client, people, testing_a):
    response = login(client, people.olivia).post(reverse("case-traces", args=[testing_a.pk]))
    assert response.status_code == 400 and b"This field is required" in response.content
    assert TraceUpload.objects.count() == 0


def test_a_check_that_runs_out_of_time_is_marked_failed(people, testing_a, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    upload = services.upload_trace(
        testing_a, actor=people.alice, kind="consensus", uploaded=upload_file(example("healthy"))
    )

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "check_upload", too_slow)
    assert tasks.check_trace_upload.apply(args=[upload.pk]).get() == "failed"
    upload.refresh_from_db()
    assert upload.status == CheckStatus.FAILED and "longer than" in upload.error
    assert not services.stale_uploads().filter(pk=upload.pk).exists()
