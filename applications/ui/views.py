"""The portal's core pages: dashboards, the queue, case lists, the case page
with its tabs, lifecycle actions and condition status.

Every object comes from ``applications.queries`` (anything outside the user's
scope answers 404); every change goes through a service.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import queries
from ..actions import (
    ActionInvalid,
    available_actions,
    check_allowed,
    get_action,
    take_action,
)
from ..clock import service_clock
from ..filters import ApplicationFilter
from ..forms import ConditionStatusForm
from ..models import Category, State
from ..services import lifecycle
from ..services.common import IllegalTransition
from . import helpers


def _is_htmx(request):
    return request.headers.get("HX-Request") == "true"


def conflict(request, message, application=None):
    """The 409 page: the case's state does not allow what was asked."""
    return render(request, "409.html", {"message": message, "application": application}, status=409)


@login_required
def dashboard(request):
    user = request.user
    # Staff first: a superuser sees everything whatever role the account carries.
    if user.is_portal_staff:
        template, context = "portal/dashboard_staff.html", helpers.staff_dashboard(user)
    elif user.is_firm_user:
        template, context = "portal/dashboard_firm.html", helpers.firm_dashboard(user)
    elif user.is_regulator:
        template, context = "portal/dashboard_regulator.html", helpers.regulator_dashboard(user)
    elif user.is_auditor:
        template, context = "portal/dashboard_auditor.html", helpers.auditor_dashboard(user)
    else:
        template, context = "portal/dashboard_other.html", {}
    return render(request, template, context)


def _case_table(request, *, title, default_sort, is_queue):
    filterset = ApplicationFilter(
        request.GET or None, queryset=queries.application_list(request.user)
    )
    page, sort = helpers.sorted_page(
        filterset.qs, request.GET.get("sort"), request.GET.get("page"), default_sort
    )
    show_assignee_filter = request.user.is_regulator or request.user.is_portal_staff
    return render(
        request,
        "portal/case_table_page.html",
        {
            "title": title,
            "is_queue": is_queue,
            "filterset": filterset,
            "page": page,
            "sort": sort,
            "states": State.choices,
            "categories": Category.choices,
            "selected_states": request.GET.getlist("state"),
            "officers": list(queries.assignable_officers()) if show_assignee_filter else [],
            "show_assignee_filter": show_assignee_filter,
        },
    )


@login_required
def queue(request):
    """The regulator's work queue: every submitted case, filtered and sorted."""
    if not (request.user.is_regulator or request.user.is_portal_staff):
        return redirect("case-list")
    return _case_table(request, title="Queue", default_sort="submitted", is_queue=True)


@login_required
def case_list(request):
    """The cases this user may see."""
    return _case_table(request, title="Cases", default_sort="-created", is_queue=False)


def _scoped_case(request, pk):
    return get_object_or_404(
        queries.application_list(request.user).select_related("recommended_by"), pk=pk
    )


def _tab_name(value):
    return value if value in helpers.TAB_NAMES else "overview"


def _tab_context(request, app, tab):
    return {
        "app": app,
        "tab": tab,
        "tabs": helpers.TABS,
        **helpers.tab_context(tab, request.user, app),
    }


@login_required
def case_detail(request, pk):
    app = _scoped_case(request, pk)
    tab = _tab_name(request.GET.get("tab"))
    actions = available_actions(request.user, app)
    context = _tab_context(request, app, tab)
    context.update(
        {
            "clock": service_clock(app),
            "primary_actions": [a for a in actions if a.tone == "primary"],
            "danger_actions": [a for a in actions if a.tone == "danger"],
            "secondary_actions": [a for a in actions if a.tone not in ("primary", "danger")],
            "can_edit": helpers.can_edit(request.user, app),
            "node_changes": list(queries.pending_node_changes_for(request.user, app)),
            "can_decide_node_changes": request.user.is_case_officer,
        }
    )
    return render(request, "portal/case/detail.html", context)


@login_required
def case_tab(request, pk, name):
    """One tab of the case page: the fragment for htmx, the whole page otherwise."""
    app = _scoped_case(request, pk)
    if name not in helpers.TAB_NAMES:
        raise Http404("No such tab.")
    if not _is_htmx(request):
        return redirect(f"{reverse('case-detail', args=[app.pk])}?tab={name}")
    return render(request, "portal/case/_tabs.html", _tab_context(request, app, name))


@login_required
@require_http_methods(["GET", "POST"])
def case_action(request, pk, name):
    """Show a lifecycle action's form and take the action."""
    app = _scoped_case(request, pk)
    action = get_action(name)
    if action is None:
        raise Http404("No such action.")
    try:
        check_allowed(action, app, request.user)
    except IllegalTransition as exc:
        return conflict(request, exc.message, app)
    status = 200
    if request.method == "POST":
        try:
            take_action(action, app, request.user, request.POST, request.FILES)
        except ActionInvalid:
            form = action.form(app, data=request.POST, files=request.FILES)
            form.is_valid()
            status = 400
        except ValidationError as exc:
            form = action.form(app, data=request.POST, files=request.FILES)
            form.is_valid()
            form.add_error(None, exc)
            status = 400
        except IllegalTransition as exc:
            return conflict(request, exc.message, app)
        else:
            messages.success(request, f"{action.label}: done for {app.reference}.")
            url = reverse("case-detail", args=[app.pk])
            tab = helpers.ACTION_TAB.get(action.name)
            return redirect(f"{url}?tab={tab}" if tab else url)
    else:
        form = action.form(app)
    return render(
        request,
        "portal/case/action.html",
        {"app": app, "action": action, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def condition_status(request, pk):
    """A regulator marks a condition met, breached, waived or open again."""
    condition = get_object_or_404(
        queries.conditions_for(request.user).select_related("application"), pk=pk
    )
    app = condition.application
    if not request.user.is_regulator:
        raise PermissionDenied("Only a regulator can change a condition's status.")
    status = 200
    if request.method == "POST":
        form = ConditionStatusForm(request.POST)
        if form.is_valid():
            try:
                lifecycle.set_condition_status(
                    condition,
                    actor=request.user,
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except IllegalTransition as exc:
                return conflict(request, exc.message, app)
            else:
                messages.success(request, "The condition's status is updated.")
                return redirect(f"{reverse('case-detail', args=[app.pk])}?tab=decision")
        status = 400
    else:
        form = ConditionStatusForm(
            initial={"status": condition.status, "note": condition.status_note}
        )
    return render(
        request,
        "portal/condition_status.html",
        {"app": app, "condition": condition, "form": form},
        status=status,
    )


@login_required
def zones(request):
    """The zones of the physical tier and their policies."""
    registrations = {}
    if request.user.is_firm_user:
        for reg in queries.zone_registrations_for(request.user).select_related("firm"):
            registrations.setdefault(reg.zone_id, []).append(reg)
    zone_list = list(queries.zones_for(request.user))
    for zone in zone_list:
        zone.my_registrations = registrations.get(zone.pk, [])
    return render(request, "portal/zones.html", {"zones": zone_list})
