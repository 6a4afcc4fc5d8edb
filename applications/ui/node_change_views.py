"""The case officer's decision on a firm's endpoint change, posted from the case page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import queries
from ..forms import EndpointChangeDecisionForm
from ..models import EndpointChangeStatus
from ..services import node_changes
from .firm_views import add_service_errors, portal_page

DECISIONS = {"approve": node_changes.approve_change, "refuse": node_changes.refuse_change}


def _case_id(request):
    case_id = request.POST.get("case", "")
    return case_id if case_id.isdigit() and len(case_id) < 19 else ""


def _back(request, change):
    """The case page the form was posted from, if the user sees it and it uses the
    node; otherwise the dashboard."""
    case_id = _case_id(request)
    if case_id:
        visible = queries.applications_for(request.user).filter(pk=case_id, nodes=change.node_id)
        if visible.exists():
            return reverse("case-detail", args=[int(case_id)])
    return reverse("dashboard")


@portal_page
@require_http_methods(["POST"])
def decide(request, pk, decision):
    """Approve or refuse one pending change (case officers; anyone else: 404)."""
    change = get_object_or_404(
        queries.node_changes_for(request.user, queries.CHANGE).select_related("node"), pk=pk
    )
    form = EndpointChangeDecisionForm(request.POST)
    if form.is_valid():
        try:
            change = DECISIONS[decision](change, actor=request.user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if change.status == EndpointChangeStatus.APPROVED:
                messages.success(
                    request, f"The node '{change.node.label}' now uses {change.requested_url}."
                )
            elif decision == "approve":
                messages.warning(request, f"The change is refused: {change.decision_note}")
            else:
                messages.success(request, "The endpoint change is refused; the firm is told.")
            return redirect(_back(request, change))
    return render(
        request,
        "portal/node_change_decide.html",
        {
            "change": change,
            "form": form,
            "decision": decision,
            "back": _back(request, change),
            "case_id": _case_id(request),
        },
        status=400,
    )
