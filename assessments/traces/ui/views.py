"""Uploaded traces on a case: the list and upload form, and one upload's result page with
its checks, violations and the message-sequence chart of a chosen height.

Cases and uploads come from the scoped queries (anything outside the user's scope answers
404); uploading goes through ``assessments.traces.services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from applications import queries as case_queries
from applications.services.common import IllegalTransition
from applications.ui.views import conflict
from assessments.engine import EngineError
from assessments.engine.suites import consensus_trace
from assessments.ui.results import suite_view

from .. import services
from ..forms import HeightForm, TraceUploadForm
from ..models import CheckStatus, TraceKind
from ..queries import trace_uploads_for
from ..sequence import sequence_chart
from ..violations import first_height, violations


def _scoped_case(request, pk):
    return get_object_or_404(
        case_queries.applications_for(request.user).select_related("firm", "project"), pk=pk
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_traces(request, pk):
    """The case's uploads, and the upload form for its firm and regulators."""
    app = _scoped_case(request, pk)
    may_upload = services.can_upload(request.user, app)
    if request.method == "POST" and not may_upload:
        raise PermissionDenied("Only the case's firm and regulators upload traces.")
    form = (
        TraceUploadForm(data=request.POST, files=request.FILES)
        if request.method == "POST"
        else TraceUploadForm()
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                upload = services.upload_trace(
                    app,
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    uploaded=form.cleaned_data["file"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except IllegalTransition as exc:
                return conflict(request, exc.message, app)
            else:
                messages.success(
                    request, "The file is stored; the engine checks it and records a test run."
                )
                return redirect("trace-detail", pk=upload.pk)
        status = 400
    return render(
        request,
        "traces/case_traces.html",
        {
            "app": app,
            "uploads": trace_uploads_for(request.user).filter(application=app),
            "form": form if may_upload and services.uploads_open(app) else None,
            "may_upload": may_upload,
        },
        status=status,
    )


def _sequence(upload, height):
    try:
        with upload.file.open("rb") as handle:
            found = consensus_trace.events_at(handle, height)
    except (FileNotFoundError, EngineError):
        return None, False
    return sequence_chart(found["validators"], found["events"], height), found["truncated"]


@login_required
@require_GET
def trace_detail(request, pk):
    upload = get_object_or_404(trace_uploads_for(request.user), pk=pk)
    context = {"upload": upload, "app": upload.application, "checked": False}
    status = 200
    suite_run = upload.suite_run if upload.status == CheckStatus.CHECKED else None
    rows = []
    if suite_run is not None:
        context["checked"] = True
        context["suite"] = suite_view(suite_run)
        rows = violations(suite_run.result)
        context["violations"] = rows
    if upload.kind == TraceKind.CONSENSUS and upload.status != CheckStatus.FAILED:
        form = HeightForm(request.GET or None)
        height = None
        if request.GET.get("height") not in (None, ""):
            if form.is_valid():
                height = form.cleaned_data["height"]
            else:
                status = 400
        else:
            form = HeightForm(initial={})
            height = first_height(rows)
            if height is None:
                height = (upload.summary or {}).get("first_height")
        if height is not None:
            chart, truncated = _sequence(upload, height)
            context.update({"sequence": chart, "sequence_truncated": truncated, "height": height})
            if not request.GET.get("height"):
                form = HeightForm(initial={"height": height})
        context["height_form"] = form
    return render(request, "traces/trace_detail.html", context, status=status)
