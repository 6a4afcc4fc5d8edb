"""The case's content: creating and editing an application, the firm's
eligibility answers, tier statuses, documents and who works on the case."""

import hashlib

from django.conf import settings
from django.core.files.base import File
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from ..models import (
    Application,
    Criterion,
    Document,
    DocumentKind,
    EligibilityAnswer,
    State,
    TechLevel,
    Tier,
    TierState,
    TierStatus,
)
from . import pdf_content
from .common import (
    IllegalTransition,
    ValidationError,
    diff,
    is_firm_member,
    locked_application,
    record,
    require,
    snapshot,
)

# Fields a firm fills in on its application.
CONTENT_FIELDS = [
    "title",
    "summary",
    "cohort",
    "hypothesis",
    "success_metrics",
    "test_start",
    "test_end",
    "customer_cap",
    "transaction_cap",
    "aggregate_cap",
    "customer_selection",
    "safeguard_consent",
    "safeguard_disclosure",
    "safeguard_complaints",
    "safeguard_compensation",
    "safeguard_capital",
    "relief_requested",
    "relief_detail",
    "exit_strategy",
    "target_level",
]
EDITABLE_STATES = (State.DRAFT, State.AWAITING_FIRM)
CLOSED_STATES = (State.REJECTED, State.EXITED, State.WITHDRAWN)


def create_application(*, actor, project, fields=None, answers=None, nodes=None):
    """Firm: open a draft application for one of its projects."""
    from django.db import transaction

    require(is_firm_member(actor, project.firm_id), "Only the firm's own users can apply.")
    fields = dict(fields or {})
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    _check_nodes(project.firm_id, nodes)
    with transaction.atomic():
        app = Application(firm_id=project.firm_id, project=project, created_by=actor, **fields)
        if not app.title:
            app.title = project.name
        app.full_clean(exclude=["reference", "created_by", "firm", "project"])
        app.save()
        if nodes is not None:
            app.nodes.set(nodes)
        EligibilityAnswer.objects.bulk_create(
            EligibilityAnswer(
                application=app, criterion=c, firm_answer=(answers or {}).get(c, "").strip()
            )
            for c in Criterion
        )
        TierStatus.objects.bulk_create(TierStatus(application=app, tier=t) for t in Tier)
        record(
            actor=actor,
            action="application.create",
            target=app,
            after=snapshot(app, CONTENT_FIELDS) | {"project": project.pk},
        )
    return app


def _check_nodes(firm_id, nodes):
    if nodes and any(node.firm_id != firm_id for node in nodes):
        raise ValidationError(
            "Only nodes registered in the firm's own server station can be tested."
        )


def update_application(application, *, actor, fields=None, answers=None, nodes=None):
    """Firm: edit the content of a draft, or while answering an RFI."""
    fields = dict(fields or {})
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    with locked_application(application) as app:
        require(is_firm_member(actor, app.firm_id), "Only the firm's own users can edit.")
        if app.state not in EDITABLE_STATES:
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; "
                "its content can be edited only as a draft or while answering an RFI."
            )
        _check_nodes(app.firm_id, nodes)
        before = snapshot(app, CONTENT_FIELDS)
        for name, value in fields.items():
            setattr(app, name, value)
        app.full_clean(exclude=["reference", "created_by", "firm", "project"])
        app.save()
        after = snapshot(app, CONTENT_FIELDS)
        if nodes is not None:
            before["nodes"] = sorted(app.nodes.values_list("pk", flat=True))
            app.nodes.set(nodes)
            after["nodes"] = sorted(n.pk for n in nodes)
        for answer in EligibilityAnswer.objects.filter(application=app):
            if answers and answer.criterion in answers:
                new = answers[answer.criterion].strip()
                if new != answer.firm_answer:
                    before[f"eligibility.{answer.criterion}"] = answer.firm_answer
                    after[f"eligibility.{answer.criterion}"] = new
                    answer.firm_answer = new
                    answer.save(update_fields=["firm_answer"])
        changed_before, changed_after = diff(before, after)
        if changed_after:
            record(
                actor=actor,
                action="application.update",
                target=app,
                before=changed_before,
                after=changed_after,
            )
    return app


def set_tier_status_locked(app, tier, status, actor, reason):
    """Set a tier's status on a case already locked by the caller."""
    row, _ = TierStatus.objects.get_or_create(application=app, tier=tier)
    if row.status == status and row.reason == reason:
        return row
    before = {"tier": tier, "status": row.status, "reason": row.reason}
    row.status = status
    row.reason = reason
    row.set_by = actor
    row.set_at = timezone.now()
    row.save(update_fields=["status", "reason", "set_by", "set_at"])
    record(
        actor=actor,
        action="tier.set_status",
        target=app,
        before=before,
        after={"tier": tier, "status": status, "reason": reason},
        reason=reason,
    )
    return row


def set_tier_status(application, *, actor, tier, status, reason):
    """Regulator: set a tier's status, saying why."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can set a tier's status.")
        if tier not in Tier.values:
            raise ValidationError("Choose the institutional, technical or physical tier.")
        if status not in TierState.values:
            raise ValidationError("Choose a valid tier status.")
        if not reason.strip():
            raise ValidationError("Say why the tier's status changes.")
        if app.state in (State.DRAFT, *CLOSED_STATES):
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; its tiers cannot change."
            )
        set_tier_status_locked(app, tier, status, actor, reason.strip())
    return app


def set_achieved_level(application, *, actor, level, reason):
    """Regulator: record the technical level the evidence supports."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can set the achieved level.")
        try:
            level = int(level)
        except (TypeError, ValueError):
            level = None
        if level not in TechLevel.values:
            raise ValidationError("Choose a technical level from L0 to L3.")
        if not reason.strip():
            raise ValidationError("Say what evidence supports the level.")
        if app.state in (State.DRAFT, *CLOSED_STATES):
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; its level cannot change."
            )
        before = app.achieved_level
        app.achieved_level = level
        app.save(update_fields=["achieved_level", "updated_at"])
        record(
            actor=actor,
            action="application.set_achieved_level",
            target=app,
            before={"achieved_level": before},
            after={"achieved_level": app.achieved_level},
            reason=reason,
        )
    return app


def assign_case_officer(application, *, actor, officer):
    """Regulator: assign (or reassign) the case officer."""
    with locked_application(application) as app:
        require(actor.is_regulator, "Only a regulator can assign a case officer.")
        if not officer.is_case_officer or not officer.is_active:
            raise ValidationError("Choose an active case officer.")
        if app.state in (State.DRAFT, *CLOSED_STATES):
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; it takes no case officer."
            )
        before = app.case_officer_id
        app.case_officer = officer
        app.save(update_fields=["case_officer", "updated_at"])
        record(
            actor=actor,
            action="application.assign_officer",
            target=app,
            before={"case_officer": before},
            after={"case_officer": officer.pk},
        )
    return app


def assign_auditor(application, *, actor, auditor, revoke=False):
    """Regulator or staff: grant (or revoke) one auditor access to one case.

    The grant is a django-guardian object permission in the case's direct
    foreign-key table, which ``queries.applications_for`` reads.
    """
    with locked_application(application) as app:
        require(
            actor.is_regulator or actor.is_portal_staff,
            "Only a regulator or staff can assign auditors.",
        )
        if not auditor.is_auditor or not auditor.is_active:
            raise ValidationError("Choose an active auditor.")
        if app.state == State.DRAFT:
            raise IllegalTransition("A draft cannot be audited.")
        if revoke:
            remove_perm("view_application", auditor, app)
        else:
            assign_perm("view_application", auditor, app)
        record(
            actor=actor,
            action="application.revoke_auditor" if revoke else "application.assign_auditor",
            target=app,
            after={"auditor": auditor.pk, "username": auditor.username},
        )
    return app


# Accepted uploads: what the file's first bytes must look like, by type.
_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
}
_EXTENSIONS = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
}
ACCEPTED_EXTENSIONS = sorted(_EXTENSIONS)


def sniff_content_type(name, head):
    """The type a file really is, judged by its bytes; ``None`` when it is not
    one the portal accepts or its bytes do not match its name."""
    import os

    ext = os.path.splitext(name or "")[1].lower()
    claimed = _EXTENSIONS.get(ext)
    if claimed is None:
        return None
    if claimed.startswith("text/"):
        if b"\x00" in head:
            return None
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A multi-byte character may be cut at the end of the sample.
            if exc.start < len(head) - 4:
                return None
        return claimed
    return claimed if head.startswith(_SIGNATURES[claimed]) else None


def check_upload_allowed(application, *, actor):
    """Refuse, as ``upload_document`` would, an actor who may not add documents
    to this case or a case that is closed; lets a page say so before any file
    is sent. ``upload_document`` checks again under the case's lock."""
    require(
        is_firm_member(actor, application.firm_id) or actor.is_regulator,
        "Only the firm's own users or a regulator can add documents.",
    )
    if application.state in CLOSED_STATES:
        raise IllegalTransition(
            f"This case is {application.get_state_display().lower()}; no documents can be added."
        )


def _refuse_active_pdf(uploaded, limit):
    """Refuse a PDF that carries JavaScript, actions, embedded files or other active
    content: the whole file is read (it is within the size limit) and inspected."""
    uploaded.seek(0)
    data = uploaded.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"The file is larger than the limit of {filesizeformat(limit)}.")
    try:
        found = pdf_content.active_content(data)
    except pdf_content.TooMuchToInspect:
        raise ValidationError(
            "The PDF's compressed content is more than the portal inspects (it expands "
            "too far or is compressed too many times over); upload a simpler PDF."
        ) from None
    if found:
        raise ValidationError(pdf_content.describe(found))


def upload_document(application, *, actor, kind, uploaded):
    """Store a document under its SHA-256 after checking its size and content (a PDF
    with active content is refused); a refused upload stores nothing."""
    if kind not in DocumentKind.values:
        raise ValidationError("Choose the kind of document.")
    size = uploaded.size
    limit = settings.DOCUMENT_MAX_BYTES
    if size == 0:
        raise ValidationError("The file is empty.")
    if size > limit:
        raise ValidationError(
            f"The file is {filesizeformat(size)}; the limit is {filesizeformat(limit)}."
        )
    uploaded.seek(0)
    head = uploaded.read(2048)
    content_type = sniff_content_type(uploaded.name, head)
    if content_type is None:
        raise ValidationError(
            "This file type is not accepted, or its content does not match its name. "
            f"Accepted: {', '.join(ACCEPTED_EXTENSIONS)}."
        )
    if content_type == "application/pdf":
        _refuse_active_pdf(uploaded, limit)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    with locked_application(application) as app:
        require(
            is_firm_member(actor, app.firm_id) or actor.is_regulator,
            "Only the firm's own users or a regulator can add documents.",
        )
        if app.state in CLOSED_STATES:
            raise IllegalTransition(
                f"This case is {app.get_state_display().lower()}; no documents can be added."
            )
        document = Document(
            application=app,
            kind=kind,
            original_name=uploaded.name[:255],
            content_type=content_type,
            size=size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        document.file.save(document.sha256, File(uploaded), save=False)
        try:
            document.save()
            record(
                actor=actor,
                action="document.upload",
                target=document,
                after={
                    "name": document.original_name,
                    "sha256": document.sha256,
                    "size": size,
                    "kind": kind,
                },
            )
        except BaseException:
            # The row goes with the transaction; the file must go with it.
            document.file.storage.delete(document.file.name)
            raise
    return document


def record_download(document, *, actor):
    """Every download of a document is an audit event."""
    record(
        actor=actor,
        action="document.download",
        target=document,
        after={"sha256": document.sha256},
    )
