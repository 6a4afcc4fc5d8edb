"""Report pages: generate a report, follow its rendering, download it, verify a PDF.

Evaluations and reports come from the scoped queries (anything outside the user's scope
answers 404); generating, downloading and verifying go through ``reports.services``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications.services.common import IllegalTransition
from applications.ui.views import conflict
from assessments.evaluations.queries import evaluations_for

from .. import services
from ..forms import VerifyForm
from ..queries import reports_for


def _scoped_report(request, pk):
    return get_object_or_404(reports_for(request.user), pk=pk)


@login_required
@require_POST
def generate(request, pk):
    """A regulator asks for the signed report of an issued evaluation."""
    evaluation = get_object_or_404(evaluations_for(request.user), pk=pk)
    if not services.can_request(request.user, evaluation):
        raise PermissionDenied("Only regulators generate access-evaluation reports.")
    try:
        report = services.request_report(evaluation, actor=request.user)
    except IllegalTransition as exc:
        return conflict(request, exc.message, evaluation.application)
    messages.success(request, f"Report {report.number} is being rendered.")
    return redirect("report-detail", pk=report.pk)


def _detail_context(request, report):
    return {
        "report": report,
        "evaluation": report.evaluation,
        "app": report.evaluation.application,
        "can_request": services.can_request(request.user, report.evaluation),
    }


@login_required
@require_GET
def detail(request, pk):
    report = _scoped_report(request, pk)
    return render(request, "reports/detail.html", _detail_context(request, report))


@login_required
@require_GET
def live(request, pk):
    """The part of the report page that refreshes while the report renders."""
    report = _scoped_report(request, pk)
    return render(request, "reports/_live.html", _detail_context(request, report))


@login_required
@require_GET
def download(request, pk):
    """The PDF, for every user who sees the case; each download is an audit event."""
    report = _scoped_report(request, pk)
    if not report.is_ready:
        return conflict(request, "The report is not ready yet.", report.evaluation.application)
    services.record_download(report, actor=request.user)
    return FileResponse(
        report.pdf.open("rb"),
        as_attachment=True,
        filename=report.filename,
        content_type="application/pdf",
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """Upload a report PDF: is it authentic, unaltered, and which evaluation is it?"""
    form = VerifyForm(request.POST or None, request.FILES or None)
    verdict, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            try:
                verdict = services.verify_report(form.cleaned_data["file"].read())
            except ValidationError as exc:
                form.add_error("file", exc)
                status = 400
        else:
            status = 400
    return render(request, "reports/verify.html", {"form": form, "verdict": verdict}, status=status)
