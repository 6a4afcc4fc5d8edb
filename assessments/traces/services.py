"""Uploading a consensus trace or a ledger history, and recording its check.

``upload_trace`` reads the file once on arrival with the engine's streaming checker, so a
file that breaks its format is refused at once with the line at fault and nothing is
stored; a file that reads well is stored under its SHA-256, audited (``trace.upload``) and
queued for the engine worker once the transaction commits.

``check_upload`` is what that worker runs (``tasks.check_trace_upload``): it streams the
stored file through the same checker (verifying its SHA-256 on the way) and records, in one
transaction, a finished ``TestRun`` of the case with one ``SuiteRun`` holding the result,
so evaluations can cite it like any other run (``trace.check``). It is idempotent: a
second delivery finds the run recorded and does nothing.
"""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from applications.services.common import IllegalTransition, is_firm_member, locked_application
from applications.services.content import CLOSED_STATES
from assessments.engine import EngineError
from assessments.engine.suites import check_consensus_trace, check_ledger_history
from assessments.models import RunStatus, SuiteRun, TestRun
from sandbox_portal.audit.services import record

from .models import SUITE_OF_KIND, CheckStatus, TraceKind, TraceUpload

logger = logging.getLogger(__name__)

CHECKERS = {TraceKind.CONSENSUS: check_consensus_trace, TraceKind.LEDGER: check_ledger_history}

# An upload still queued this long after it was sent to the engine queue is sent again.
RESEND_AFTER_SECONDS = 600


def can_upload(user, application):
    """The case's own firm users and regulators upload; auditors only read."""
    return bool(
        user.is_authenticated and (user.is_regulator or is_firm_member(user, application.firm_id))
    )


def uploads_open(application):
    return application.state not in CLOSED_STATES


def _crossing_line(uploaded, limit):
    """The line on which the first ``limit`` bytes end."""
    uploaded.seek(0)
    newlines, seen = 0, 0
    for chunk in uploaded.chunks():
        take = chunk[: max(0, limit - seen)]
        newlines += take.count(b"\n")
        seen += len(chunk)
        if seen >= limit:
            break
    uploaded.seek(0)
    return newlines + 1


def _summary(kind, metrics):
    keys = {
        TraceKind.CONSENSUS: (
            "validators",
            "events",
            "heights",
            "first_height",
            "last_height",
            "commits",
        ),
        TraceKind.LEDGER: ("transactions", "blocks", "accounts", "first_block", "last_block"),
    }[kind]
    return {k: metrics.get(k) for k in keys}


class _Hashing:
    """A binary stream that hashes, and counts the lines of, what is read through it."""

    def __init__(self, stream):
        self.stream = stream
        self.digest = hashlib.sha256()
        self.lines = 0

    def read(self, size=-1):
        data = self.stream.read(size)
        self.digest.update(data)
        self.lines += data.count(b"\n")
        return data

    def drain(self):
        """Read what the checker left, so the hash covers the whole file."""
        while self.read(1 << 20):
            pass
        return self


def read_upload(kind, uploaded):
    """Read an uploaded file through the engine's checker, once: its result and the
    ``_Hashing`` stream that read it (SHA-256, lines), or ValidationError naming the line
    at fault."""
    limit = settings.TRACE_MAX_BYTES
    if uploaded.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if uploaded.size > limit:
        line = _crossing_line(uploaded, limit)
        raise ValidationError(
            {
                "file": f"The file is refused at line {line}: it is "
                f"{filesizeformat(uploaded.size)} and the limit is {filesizeformat(limit)} "
                f"(TRACE_MAX_BYTES); line {line} crosses the limit."
            }
        )
    uploaded.seek(0)
    stream = _Hashing(uploaded)
    try:
        result = CHECKERS[kind](stream, {"max_bytes": limit})
        stream.drain()
    except EngineError as exc:
        raise ValidationError({"file": f"The file is refused at {exc}"}) from None
    finally:
        uploaded.seek(0)
    return result, stream


def upload_trace(application, *, actor, kind, uploaded):
    """Store an uploaded trace or history after reading it; see the module docstring.

    Refusals: ``PermissionDenied`` (not the case's firm, nor a regulator),
    ``IllegalTransition`` (the case is closed), ``ValidationError`` (an unknown kind, an
    empty or oversized file, or a line that breaks the format, named in the message).
    """
    if not can_upload(actor, application):
        raise PermissionDenied("Only the case's firm and regulators upload traces.")
    if not uploads_open(application):
        raise IllegalTransition(
            f"This case is {application.get_state_display().lower()}; nothing can be added."
        )
    if kind not in TraceKind.values:
        raise ValidationError({"kind": "Choose a consensus trace or a ledger history."})
    result, read = read_upload(kind, uploaded)
    lines = read.lines
    with locked_application(application) as app:
        if not uploads_open(app):
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; nothing can be added."
            )
        upload = TraceUpload(
            application=app,
            kind=kind,
            original_name=(uploaded.name or "trace.jsonl")[:255],
            size=uploaded.size,
            sha256=read.digest.hexdigest(),
            lines=lines,
            summary=_summary(kind, result.metrics),
            uploaded_by=actor,
            queued_at=timezone.now(),
        )
        upload.file.save(upload.sha256, File(uploaded), save=False)
        try:
            upload.save()
            record(
                actor=actor,
                action="trace.upload",
                target=upload,
                application_id=app.pk,
                after={
                    "kind": kind,
                    "name": upload.original_name,
                    "sha256": upload.sha256,
                    "size": upload.size,
                    "lines": lines,
                },
            )
        except BaseException:
            # The row goes with the transaction; the file must go with it.
            upload.file.storage.delete(upload.file.name)
            raise
        transaction.on_commit(lambda: _enqueue(upload.pk))
    return upload


def _enqueue(upload_id):
    from .tasks import enqueue

    enqueue(upload_id)


def check_upload(upload_id, task_id=""):
    """Check a stored upload and record its run; returns "checked", "failed" or "done
    already". Idempotent (see the module docstring)."""
    upload = TraceUpload.objects.select_related("application").get(pk=upload_id)
    if upload.status != CheckStatus.QUEUED:
        return "done already"
    started = timezone.now()
    suite = SUITE_OF_KIND[upload.kind]
    error = ""
    result = None
    try:
        with upload.file.open("rb") as handle:
            stream = _Hashing(handle)
            result = CHECKERS[upload.kind](stream, {"max_bytes": settings.TRACE_MAX_BYTES})
            stream.drain()
        if stream.digest.hexdigest() != upload.sha256:
            error = "the stored file no longer matches its SHA-256; it was not checked"
            result = None
    except FileNotFoundError:
        error = "the stored file is missing"
    except EngineError as exc:
        error = str(exc)
    return _record(upload.pk, suite, result, error, started, task_id)


def give_up(upload_id, error):
    """Mark an upload that could not be checked (a check that ran out of time)."""
    upload = TraceUpload.objects.get(pk=upload_id)
    return _record(upload_id, upload.suite, None, error, timezone.now(), "")


def _record(upload_id, suite, result, error, started, task_id):
    now = timezone.now()
    with transaction.atomic():
        upload = TraceUpload.objects.select_for_update().get(pk=upload_id)
        if upload.status != CheckStatus.QUEUED:
            return "done already"
        if error:
            upload.status = CheckStatus.FAILED
            upload.error = error
            upload.checked_at = now
            upload.save(update_fields=["status", "error", "checked_at"])
            record(
                actor=upload.uploaded_by,
                action="trace.check",
                target=upload,
                application_id=upload.application_id,
                after={"status": upload.status, "error": error},
                reason=error,
            )
            return "failed"
        data = result.to_dict()
        verdict = {True: "passed", False: "FAILED"}[data["passed"]]
        run = TestRun.objects.create(
            application_id=upload.application_id,
            suites=[suite],
            parameters={suite: data["parameters"]},
            targets=[],
            status=RunStatus.SUCCEEDED,
            progress=100,
            current_step="finished",
            log=(
                f"{started:%H:%M:%S} checked the uploaded {upload.get_kind_display().lower()} "
                f"{upload.original_name} (sha256 {upload.sha256}) uploaded by "
                f"{upload.uploaded_by.get_username()}\n"
                + "".join(f"{line}\n" for line in data["logs"])
                + f"{now:%H:%M:%S} {suite}: succeeded, {verdict}\n"
            ),
            requested_by=upload.uploaded_by,
            started_at=started,
            finished_at=now,
            attempts=1,
            celery_task_id=task_id or "",
        )
        SuiteRun.objects.create(
            test_run=run,
            suite=suite,
            status=RunStatus.SUCCEEDED,
            passed=data["passed"],
            result=data,
            started_at=started,
            finished_at=now,
        )
        upload.test_run = run
        upload.status = CheckStatus.CHECKED
        upload.checked_at = now
        upload.save(update_fields=["test_run", "status", "checked_at"])
        record(
            actor=upload.uploaded_by,
            action="trace.check",
            target=upload,
            application_id=upload.application_id,
            after={
                "status": upload.status,
                "test_run": run.pk,
                "suite": suite,
                "passed": data["passed"],
                "failed_checks": [c["name"] for c in data["checks"] if c["passed"] is False],
            },
        )
    return "checked"


def stale_uploads():
    """Uploads sent to the engine queue long ago and still not checked (a lost message)."""
    before = timezone.now() - datetime.timedelta(seconds=RESEND_AFTER_SECONDS)
    return TraceUpload.objects.filter(status=CheckStatus.QUEUED, queued_at__lt=before)


def resend(upload_id):
    updated = TraceUpload.objects.filter(pk=upload_id, status=CheckStatus.QUEUED).update(
        queued_at=timezone.now()
    )
    if updated:
        transaction.on_commit(lambda: _enqueue(upload_id))
    return bool(updated)
