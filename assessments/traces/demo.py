"""The demo's uploads: the live demo case gets the shipped healthy consensus trace and
ledger history, uploaded by its firm and checked on the spot (without Celery), so the
trace pages and the message-sequence chart have something to show at once."""

from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import State
from assessments.engine.tracegen import example_text

from . import services
from .models import TraceKind, TraceUpload

DEMO_UPLOADS = (
    (TraceKind.CONSENSUS, "healthy.jsonl"),
    (TraceKind.LEDGER, "ledger_healthy.jsonl"),
)


def upload_demo_traces(applications, actor_for):
    """Upload and check the examples for each of ``applications`` in the sandbox that has
    none of that kind yet (idempotent); ``actor_for(app)`` names the uploading firm user.
    Returns a line per upload made."""
    lines = []
    for app in applications:
        if app.state != State.IN_SANDBOX:
            continue
        for kind, name in DEMO_UPLOADS:
            if TraceUpload.objects.filter(application=app, kind=kind).exists():
                continue
            data = example_text(name).encode()
            uploaded = SimpleUploadedFile(name, data, content_type="application/x-ndjson")
            upload = services.upload_trace(app, actor=actor_for(app), kind=kind, uploaded=uploaded)
            outcome = services.check_upload(upload.pk)
            lines.append(
                f"{upload.get_kind_display().lower()} {name} on {app.reference} ({outcome})"
            )
    return lines
