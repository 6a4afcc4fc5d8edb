"""Access-evaluation reports: requesting one, rendering it, downloading and verifying it.

``request_report`` is called by pages and the API on behalf of a regulator and queues the
Celery task once the transaction commits; ``render`` is what the task runs (and what the
demo calls directly). ``record_download`` audits every download; ``verify_report`` answers
whether an uploaded PDF is authentic, unaltered and issued by this portal.
"""

import datetime
import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from applications.services.common import IllegalTransition
from assessments.evaluations.models import Evaluation, EvaluationStatus
from sandbox_portal.audit.services import record

from . import document, integrity, keys, render, verification
from .models import IN_FLIGHT, AccessEvaluationReport, ReportStatus

logger = logging.getLogger(__name__)

# A report whose worker died mid-render is taken again at most this many times in all.
MAX_ATTEMPTS = 3


def can_request(user, evaluation):
    """Regulators ask for reports; firms and auditors read them."""
    return bool(user.is_authenticated and user.is_regulator)


def request_report(evaluation, *, actor, enqueue=True):
    """Queue the rendering of a signed report of ``evaluation`` (issued) for ``actor``.

    Only regulators ask (else ``PermissionDenied``); only an issued evaluation has a report
    (else ``IllegalTransition``). While a report of this evaluation is queued or rendering,
    that one is returned rather than a second queued. The task is sent after commit, unless
    ``enqueue`` is false (the caller then renders it with ``render_report``).
    """
    if not can_request(actor, evaluation):
        raise PermissionDenied("Only regulators generate access-evaluation reports.")
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if evaluation.status != EvaluationStatus.ISSUED:
            raise IllegalTransition("Only an issued evaluation has a report: issue it first.")
        pending = evaluation.reports.filter(status__in=IN_FLIGHT).first()
        if pending is not None:
            return pending
        report = AccessEvaluationReport.objects.create(
            evaluation=evaluation, requested_by=actor, json_sha256=evaluation.sha256
        )
        record(
            actor=actor,
            action="report.request",
            target=report,
            application_id=evaluation.application_id,
            after={"evaluation": evaluation.pk, "version": evaluation.version},
        )
        if enqueue:
            transaction.on_commit(lambda: _enqueue(report.pk, actor.pk))
    return report


def _enqueue(report_id, actor_id):
    from .tasks import enqueue

    AccessEvaluationReport.objects.filter(pk=report_id).update(sent_at=timezone.now())
    enqueue(report_id, actor_id)


def stale_before():
    return timezone.now() - datetime.timedelta(seconds=settings.REPORT_STALE_AFTER_SECONDS)


def stale_reports():
    """Reports whose task message is presumed lost: queued and not sent again for
    ``REPORT_STALE_AFTER_SECONDS`` (a broker that lost its messages on a restart), or
    rendering for that long (the worker died and nothing re-delivered its message)."""
    cutoff = stale_before()
    queued = Q(status=ReportStatus.QUEUED) & (Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True))
    rendering = Q(status=ReportStatus.RENDERING, started_at__lt=cutoff) & (
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True)
    )
    return AccessEvaluationReport.objects.filter(
        queued | rendering, created_at__lt=cutoff
    ).order_by("pk")


def resend_stale(report_id):
    """Send a stale report's task again, or fail it when it is out of attempts.

    Returns "resent", "failed" or None (no longer stale). The message is sent after
    commit; a report still queued behind others is not sent twice within the stale window,
    and a duplicate that does arrive finds it claimed (``claim`` is atomic).
    """
    with transaction.atomic():
        report = stale_reports().select_for_update().filter(pk=report_id).first()
        if report is None:
            return None
        if report.attempts >= MAX_ATTEMPTS:
            report.status = ReportStatus.FAILED
            report.error = f"Rendering stopped {MAX_ATTEMPTS} times without finishing."
            report.finished_at = timezone.now()
            report.save(update_fields=["status", "error", "finished_at"])
            record(
                actor=None,
                action="report.fail",
                target=report,
                application_id=report.evaluation.application_id,
                after={"error": report.error},
            )
            return "failed"
        report.sent_at = timezone.now()
        report.save(update_fields=["sent_at"])
        actor_id = report.requested_by_id
        transaction.on_commit(lambda: _enqueue(report_id, actor_id))
    return "resent"


def claim(report_id):
    """Take a queued report (or one whose worker died mid-render) for rendering.

    Atomic, so a re-delivered task message never renders a ready report again, and a
    duplicate message never renders one that another worker is rendering now: a rendering
    report is taken again only once ``REPORT_STALE_AFTER_SECONDS`` passed since it started.
    Returns the report, or None when it is taken, ready, failed or out of attempts.
    """
    with transaction.atomic():
        taken = AccessEvaluationReport.objects.filter(
            Q(status=ReportStatus.QUEUED)
            | Q(status=ReportStatus.RENDERING, started_at__lt=stale_before()),
            pk=report_id,
            attempts__lt=MAX_ATTEMPTS,
        ).update(
            status=ReportStatus.RENDERING,
            attempts=F("attempts") + 1,
            progress=5,
            started_at=timezone.now(),
        )
    if not taken:
        return None
    return AccessEvaluationReport.objects.select_related(
        "evaluation", "evaluation__application", "evaluation__index_model"
    ).get(pk=report_id)


def _progress(report_id, percent):
    AccessEvaluationReport.objects.filter(pk=report_id).update(progress=percent)


def signature_document(report, signature, fingerprint, public_key):
    """``signature.json``: what an offline verifier needs besides the public key."""
    evaluation = report.evaluation
    payload = {
        "algorithm": "Ed25519",
        "signed_file": integrity.EVALUATION_ATTACHMENT,
        "json_sha256": evaluation.sha256,
        "signature": signature,
        "public_key_fingerprint": fingerprint,
        "public_key": integrity.base64_public_key(public_key),
        "report": report.number,
        "evaluation": evaluation.pk,
        "evaluation_version": evaluation.version,
        "case_reference": evaluation.application.reference,
        "portal": settings.SITE_URL,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def build_pdf(report, *, fetcher=None):
    """The signed PDF/A-3 bytes of ``report``, its signature and the key's fingerprint.

    Writes only the report's progress. ``fetcher`` (a ``render.StaticFileFetcher``) is
    the one WeasyPrint uses, to inspect what was fetched.
    """
    evaluation = report.evaluation
    canonical = evaluation.canonical_json.encode("utf-8")
    if not canonical or integrity.sha256_hex(canonical) != evaluation.sha256:
        raise ValidationError(
            "The evaluation's canonical JSON does not match its recorded SHA-256: "
            "it cannot be signed."
        )
    private_key = keys.signing_key()
    public_key = private_key.public_key()
    signature = integrity.sign(canonical, private_key)
    fingerprint = integrity.fingerprint(public_key)
    html = document.html(
        report,
        signature=signature,
        fingerprint=fingerprint,
        public_key_pem=integrity.public_key_pem(public_key).decode("ascii"),
    )
    _progress(report.pk, 40)
    pdf = render.write_pdf(
        html,
        evaluation_json=canonical,
        signature_json=signature_document(report, signature, fingerprint, public_key),
        fetcher=fetcher,
    )
    return pdf, signature, fingerprint


def render_report(report_id, *, actor):
    """Render, sign and store the report ``report_id``; idempotent.

    A ready report is left as it is (returns it unchanged); a report is stored under one
    file name, so a re-delivered task replaces a half-written file instead of adding a
    second one. A failure is recorded on the row (status ``failed``) and audited.
    """
    report = claim(report_id)
    if report is None:
        # Out of attempts: every worker that took it died mid-render. Say so on the row.
        # (A report another worker is rendering right now is left alone.)
        AccessEvaluationReport.objects.filter(
            Q(status=ReportStatus.QUEUED)
            | Q(status=ReportStatus.RENDERING, started_at__lt=stale_before()),
            pk=report_id,
            attempts__gte=MAX_ATTEMPTS,
        ).update(
            status=ReportStatus.FAILED,
            error=f"Rendering stopped {MAX_ATTEMPTS} times without finishing.",
            finished_at=timezone.now(),
        )
        return AccessEvaluationReport.objects.filter(pk=report_id).first()
    try:
        pdf, signature, fingerprint = build_pdf(report)
    except Exception as exc:
        logger.exception("report %s failed to render", report_id)
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        with transaction.atomic():
            AccessEvaluationReport.objects.filter(pk=report_id).update(
                status=ReportStatus.FAILED, error=message[:2000], finished_at=timezone.now()
            )
            report.refresh_from_db()
            record(
                actor=actor,
                action="report.fail",
                target=report,
                application_id=report.evaluation.application_id,
                after={"error": report.error},
            )
        return report
    _progress(report_id, 90)
    name = f"reports/{report.filename}"
    storage = report.pdf.storage
    if storage.exists(name):
        storage.delete(name)
    stored = storage.save(name, ContentFile(pdf))
    with transaction.atomic():
        AccessEvaluationReport.objects.filter(pk=report_id).update(
            status=ReportStatus.READY,
            progress=100,
            error="",
            pdf=stored,
            pdf_sha256=integrity.sha256_hex(pdf),
            json_sha256=report.evaluation.sha256,
            signature=signature,
            key_fingerprint=fingerprint,
            finished_at=timezone.now(),
        )
        report.refresh_from_db()
        record(
            actor=actor,
            action="report.ready",
            target=report,
            application_id=report.evaluation.application_id,
            after={
                "pdf_sha256": report.pdf_sha256,
                "json_sha256": report.json_sha256,
                "key_fingerprint": fingerprint,
            },
        )
    return report


def record_download(report, *, actor):
    """Audit one download of a ready report (the caller has scoped it to ``actor``)."""
    if not report.is_ready:
        raise IllegalTransition("The report is not ready yet.")
    record(
        actor=actor,
        action="report.download",
        target=report,
        application_id=report.evaluation.application_id,
        after={"pdf_sha256": report.pdf_sha256},
    )


def evaluation_summary(evaluation):
    """What a verdict says of the evaluation a report belongs to."""
    return {
        "id": evaluation.pk,
        "case_reference": evaluation.application.reference,
        "application": evaluation.application_id,
        "version": evaluation.version,
        "issued_at": evaluation.issued_at.isoformat() if evaluation.issued_at else None,
    }


def verify_report(data: bytes, *, public_key=None):
    """Whether ``data`` is a report this portal issued, unaltered: a ``Verdict``.

    Oversized uploads raise ``ValidationError``. The signature is checked against
    ``public_key`` (default: the portal's); an authentic verdict names the issued
    evaluation with the embedded JSON's hash, and without one the report is not authentic.
    The file itself must be byte for byte a report the portal rendered for that evaluation
    (its SHA-256 recorded when it was rendered).
    """
    if len(data) > settings.REPORT_VERIFY_MAX_BYTES:
        limit = settings.REPORT_VERIFY_MAX_BYTES // (1024 * 1024)
        raise ValidationError(f"The file is larger than {limit} MB: it cannot be a report.")
    verdict = verification.inspect_pdf(data, public_key or keys.public_key())
    if not verdict.authentic:
        return verdict
    evaluation = (
        Evaluation.objects.filter(sha256=verdict.json_sha256, status=EvaluationStatus.ISSUED)
        .select_related("application")
        .first()
    )
    if evaluation is None:
        verdict.authentic = False
        verdict.reason = verification.NOT_ISSUED
        return verdict
    verdict.evaluation = evaluation_summary(evaluation)
    # The signature covers the embedded evaluation only; the portal also knows the SHA-256
    # of every PDF it issued, so a change anywhere else in the file is caught here.
    issued = evaluation.reports.filter(
        status=ReportStatus.READY, pdf_sha256=integrity.sha256_hex(data)
    ).first()
    if issued is None:
        verdict.authentic = False
        verdict.reason = verification.FILE_CHANGED
        return verdict
    verdict.report = issued.number
    return verdict
