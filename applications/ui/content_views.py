"""The application's content: creating and editing it, and its documents
(upload, and download with every download in the audit trail)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from .. import forms, queries
from ..models import Criterion
from ..services import content
from .firm_views import add_service_errors, firm_context, firm_users_only, portal_page

# The application form, grouped the way a firm prepares it.
SECTIONS = [
    (
        "The project",
        "What is tested, in which intake, and the technical level it aims for.",
        ["project", "title", "summary", "cohort", "target_level"],
    ),
    (
        "Test plan",
        "The hypothesis, how success is measured, the duration and the limits of the test.",
        [
            "hypothesis",
            "success_metrics",
            "test_start",
            "test_end",
            "customer_cap",
            "transaction_cap",
            "aggregate_cap",
            "customer_selection",
        ],
    ),
    (
        "Safeguards",
        "How customers taking part are protected.",
        [
            "safeguard_consent",
            "safeguard_disclosure",
            "safeguard_complaints",
            "safeguard_compensation",
            "safeguard_capital",
        ],
    ),
    (
        "Relief and exit",
        "The regulatory relief requested and how the firm leaves the sandbox.",
        ["relief_requested", "relief_detail", "exit_strategy"],
    ),
    (
        "Eligibility answers",
        "The firm's answer to each of the five sandbox eligibility criteria.",
        [f"eligibility_{criterion.value}" for criterion in Criterion],
    ),
    (
        "Nodes to be tested",
        "Nodes of the firm's server station that the technical tests may target.",
        ["nodes"],
    ),
]


def form_sections(form):
    """The form's fields by section; a field no section names is still shown."""
    placed = set()
    sections = []
    for heading, intro, names in SECTIONS:
        fields = [form[name] for name in names if name in form.fields]
        placed.update(names)
        if fields:
            sections.append({"heading": heading, "intro": intro, "fields": fields})
    rest = [form[name] for name in form.fields if name not in placed]
    if rest:
        sections.append({"heading": "Other", "intro": "", "fields": rest})
    return sections


def _render_application_form(request, form, extra, status):
    context = {
        "form": form,
        "sections": form_sections(form),
        **extra,
    }
    return render(request, "portal/content/application_form.html", context, status=status)


@portal_page
@firm_users_only
@require_http_methods(["GET", "POST"])
def application_new(request):
    ctx = firm_context(request)
    projects = queries.projects_for(request.user, queries.CHANGE).filter(firm=ctx.firm)
    if not projects.exists():
        return render(request, "portal/content/no_project.html", ctx.as_context())
    form = forms.NewApplicationForm(request.POST or None, firm=ctx.firm, projects=projects)
    if request.method == "POST" and form.is_valid():
        try:
            app = content.create_application(
                actor=request.user,
                project=form.cleaned_data["project"],
                fields=form.content(),
                answers=form.answers(),
                nodes=form.nodes(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Draft {app.reference} is saved. Submit it when ready.")
            return redirect("case-detail", pk=app.pk)
    has_nodes = queries.nodes_for(request.user).filter(firm=ctx.firm).exists()
    return _render_application_form(
        request,
        form,
        {**ctx.as_context(), "application": None, "has_nodes": has_nodes},
        status=400 if request.method == "POST" else 200,
    )


@portal_page
@require_http_methods(["GET", "POST"])
def application_edit(request, pk):
    app = get_object_or_404(queries.applications_for(request.user), pk=pk)
    if not queries.applications_for(request.user, queries.CHANGE).filter(pk=app.pk).exists():
        if not request.user.is_firm_user:
            raise PermissionDenied("Only the firm's own users can edit its application.")
        raise PermissionDenied(
            f"This case is {app.get_state_display().lower()}; its content can be edited only "
            "as a draft or while answering a request for information."
        )
    form = forms.ApplicationForm(request.POST or None, instance=app)
    if request.method == "POST" and form.is_valid():
        try:
            content.update_application(
                app,
                actor=request.user,
                fields=form.content(),
                answers=form.answers(),
                nodes=form.nodes(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{app.reference} is saved.")
            return redirect("case-detail", pk=app.pk)
    ctx = firm_context(request, firm_id=app.firm_id)
    has_nodes = queries.nodes_for(request.user).filter(firm_id=app.firm_id).exists()
    # The form writes its input into the instance; show the stored reference and state.
    app.refresh_from_db(fields=["reference", "state", "title"])
    return _render_application_form(
        request,
        form,
        {**ctx.as_context(), "application": app, "has_nodes": has_nodes},
        status=400 if request.method == "POST" else 200,
    )


@portal_page
@require_http_methods(["GET", "POST"])
def document_upload(request, pk):
    app = get_object_or_404(queries.applications_for(request.user), pk=pk)
    content.check_upload_allowed(app, actor=request.user)
    form = forms.DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            document = content.upload_document(
                app,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(
                request, f"'{document.original_name}' is stored (SHA-256 {document.sha256})."
            )
            return redirect("case-detail", pk=app.pk)
    return render(
        request,
        "portal/content/document_upload.html",
        {"application": app, "form": form, "max_bytes": settings.DOCUMENT_MAX_BYTES},
        status=400 if request.method == "POST" else 200,
    )


@portal_page
@require_GET
def document_download(request, pk):
    document = get_object_or_404(queries.documents_for(request.user), pk=pk)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("The stored file is missing.") from None
    content.record_download(document, actor=request.user)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
