"""The firm's pages: its overview, its members and the physical tier (projects,
the server station's nodes, personnel on site, zone registrations).

Firm users work on one of their firms at a time (``?firm=<id>``, otherwise
their first active membership). Regulators, auditors and staff see firms
read-only under ``/firms/``, scoped by ``queries.firms_for``.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import ModelChoiceField
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .. import forms, queries
from ..models import EndpointChangeStatus, Zone
from ..services import IllegalTransition, node_changes
from ..services import firms as firm_services

REFUSED_TEMPLATE = "portal/content/refused.html"
REFUSAL_HEADINGS = {403: "Not allowed", 409: "Not possible now"}


# ---- Shared by the firm and content pages -----------------------------------


def refusal(request, message, status, link=None):
    """A page that says, in words, why the request was refused; ``link`` is
    an optional ``(url, label)`` to where the user can go instead."""
    context = {
        "heading": REFUSAL_HEADINGS.get(status, "Refused"),
        "message": message,
        "status": status,
        "link": link,
    }
    return render(request, REFUSED_TEMPLATE, context, status=status)


def portal_page(view):
    """Log-in required; a service's PermissionDenied answers 403 and its
    IllegalTransition 409, each with the service's own message."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return refusal(request, str(exc) or "You may not do this.", 403)
        except IllegalTransition as exc:
            return refusal(request, exc.message, 409)

    return wrapper


def firm_users_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_firm_user:
            return refusal(
                request,
                "These pages are for a firm's own users.",
                403,
                link=(reverse("firm-list"), "See the firms you can view"),
            )
        return view(request, *args, **kwargs)

    return wrapper


def add_service_errors(form, exc):
    """Show a service's ValidationError on the form: on its field when the
    form has that field, otherwise above the form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@dataclass(frozen=True)
class FirmContext:
    """The firm a firm user is working on, and what they are to it."""

    membership: object
    memberships: list

    @property
    def firm(self):
        return self.membership.firm

    @property
    def is_admin(self):
        return self.membership.is_admin

    @property
    def query(self):
        """The query string that keeps a user of several firms on this one."""
        return f"?firm={self.firm.pk}" if len(self.memberships) > 1 else ""

    def url(self, name, *args):
        return reverse(name, args=args) + self.query

    def as_context(self):
        return {
            "firm": self.firm,
            "membership": self.membership,
            "memberships": self.memberships,
            "is_admin": self.is_admin,
            "firm_query": self.query,
        }


def firm_context(request, firm_id=None):
    """The firm the page works on: ``firm_id`` (an object's own firm),
    ``?firm=<id>``, or the user's first active membership. A firm the user is
    not an active member of answers 404."""
    memberships = list(queries.own_memberships(request.user))
    if not memberships:
        raise PermissionDenied("You are not an active member of any firm.")
    wanted = firm_id if firm_id is not None else request.GET.get("firm")
    if wanted in (None, ""):
        return FirmContext(memberships[0], memberships)
    for membership in memberships:
        if str(membership.firm_id) == str(wanted):
            return FirmContext(membership, memberships)
    # Not one of the user's firms: as if it did not exist.
    raise Http404("No such firm.")


# ---- Overview ---------------------------------------------------------------


def _overview(request, firm, extra):
    user = request.user
    context = {
        "firm": firm,
        "members": queries.memberships_for(user).filter(firm=firm, is_active=True),
        "projects": queries.projects_for(user).filter(firm=firm),
        "nodes": queries.nodes_for(user).filter(firm=firm),
        "personnel": queries.personnel_for(user).filter(firm=firm),
        "registrations": queries.zone_registrations_for(user)
        .filter(firm=firm)
        .select_related("zone"),
        "cases": queries.applications_for(user).filter(firm=firm).select_related("project"),
        **extra,
    }
    return render(request, "portal/firm/overview.html", context)


@portal_page
def firm_home(request):
    if not request.user.is_firm_user:
        return redirect("firm-list")
    ctx = firm_context(request)
    return _overview(request, ctx.firm, {**ctx.as_context(), "manage": True, "tab": "overview"})


@portal_page
def firm_list(request):
    firms = queries.firms_for(request.user)
    return render(request, "portal/firm/firm_list.html", {"firms": firms})


@portal_page
def firm_detail(request, pk):
    firm = get_object_or_404(queries.firms_for(request.user), pk=pk)
    return _overview(request, firm, {"manage": False})


# ---- Members ----------------------------------------------------------------


@portal_page
@firm_users_only
def members(request):
    ctx = firm_context(request)
    rows = (
        queries.memberships_for(request.user)
        .filter(firm=ctx.firm)
        .order_by("-is_active", "user__username")
    )
    return render(
        request,
        "portal/firm/members.html",
        {**ctx.as_context(), "rows": rows, "tab": "members"},
    )


@portal_page
@firm_users_only
@require_http_methods(["GET", "POST"])
def member_invite(request):
    ctx = firm_context(request)
    if not ctx.is_admin:
        raise PermissionDenied("Only the firm's admin can invite members.")
    form = forms.InviteMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = firm_services.invite_member(
                ctx.firm, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"{membership.user.username} is invited; an email to {membership.user.email} "
                "lets them choose a password.",
            )
            return redirect(ctx.url("members"))
    return render(
        request,
        "portal/firm/member_invite.html",
        {**ctx.as_context(), "form": form, "tab": "members"},
        status=400 if request.method == "POST" else 200,
    )


@portal_page
@firm_users_only
@require_http_methods(["GET", "POST"])
def member_remove(request, pk):
    membership = get_object_or_404(queries.memberships_for(request.user), pk=pk)
    ctx = firm_context(request, firm_id=membership.firm_id)
    if not ctx.is_admin:
        raise PermissionDenied("Only the firm's admin can remove members.")
    error = None
    if request.method == "POST":
        try:
            firm_services.remove_member(membership, actor=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                f"{membership.user.username} was removed from {membership.firm}; "
                "their account and history are kept.",
            )
            return redirect(ctx.url("members"))
    return render(
        request,
        "portal/firm/member_remove.html",
        {**ctx.as_context(), "target": membership, "error": error, "tab": "members"},
        status=400 if error else 200,
    )


# ---- The physical tier and projects -------------------------------------------


@dataclass(frozen=True)
class Owned:
    """One kind of record a firm owns, with its form, scope and service."""

    key: str
    url_prefix: str
    noun: str
    title: str
    form_class: type
    scope: object
    save: object
    instance_kwarg: str
    template: str
    admin_only: bool = False
    intro: str = ""
    # A form field passed to the service as ``reason`` rather than saved on the record.
    reason_field: str = ""

    def fields(self, form):
        return {name: form.cleaned_data[name] for name in self.form_class._meta.fields}


OWNED = {
    "projects": Owned(
        key="projects",
        url_prefix="project",
        noun="project",
        title="Projects",
        form_class=forms.ProjectForm,
        scope=queries.projects_for,
        save=firm_services.save_project,
        instance_kwarg="project",
        template="portal/firm/projects.html",
        intro="Each application to the sandbox is for one of the firm's projects.",
    ),
    "nodes": Owned(
        key="nodes",
        url_prefix="node",
        noun="node",
        title="Server station",
        form_class=forms.NodeForm,
        scope=queries.nodes_for,
        save=firm_services.save_node,
        instance_kwarg="node",
        template="portal/firm/nodes.html",
        intro=(
            "Every node or server the firm hosts. Only endpoints registered here can "
            "ever be targets of the technical tests."
        ),
        reason_field="change_reason",
    ),
    "personnel": Owned(
        key="personnel",
        url_prefix="personnel",
        noun="person",
        title="Personnel",
        form_class=forms.PersonnelForm,
        scope=queries.personnel_for,
        save=firm_services.save_personnel,
        instance_kwarg="person",
        template="portal/firm/personnel.html",
        intro="The people the firm stations on site, and their roles.",
    ),
    "zone-registrations": Owned(
        key="zone-registrations",
        url_prefix="zone-registration",
        noun="zone registration",
        title="Zone registrations",
        form_class=forms.ZoneRegistrationForm,
        scope=queries.zone_registrations_for,
        save=firm_services.save_zone_registration,
        instance_kwarg="registration",
        template="portal/firm/zone_registrations.html",
        admin_only=True,
        intro="The firm's registrations in a free-trade zone, technology park or "
        "financial security zone.",
    ),
}


@portal_page
@firm_users_only
def owned_list(request, kind):
    owned = OWNED[kind]
    ctx = firm_context(request)
    rows = owned.scope(request.user).filter(firm=ctx.firm)
    extra = {}
    if kind == "zone-registrations":
        rows = rows.select_related("zone")
    if kind == "nodes":
        extra["pending_node_ids"] = set(
            queries.node_changes_for(request.user)
            .filter(status=EndpointChangeStatus.PENDING, node__in=rows)
            .values_list("node_id", flat=True)
        )
    can_add = ctx.is_admin or not owned.admin_only
    return render(
        request,
        owned.template,
        {
            **ctx.as_context(),
            "owned": owned,
            "rows": rows,
            "can_add": can_add,
            "tab": kind,
            **extra,
        },
    )


def _endpoint_change_context(user, node):
    """What the node edit page says about endpoint changes needing approval."""
    if node is None:
        return {}
    return {
        "needs_approval": node_changes.is_supervised(node),
        "pending_change": queries.node_changes_for(user)
        .filter(node=node, status=EndpointChangeStatus.PENDING)
        .first(),
    }


@portal_page
@firm_users_only
@require_http_methods(["GET", "POST"])
def owned_edit(request, kind, pk=None):
    owned = OWNED[kind]
    instance = None
    if pk is None:
        ctx = firm_context(request)
    else:
        instance = get_object_or_404(owned.scope(request.user, queries.CHANGE), pk=pk)
        ctx = firm_context(request, firm_id=instance.firm_id)
    if owned.admin_only and not ctx.is_admin:
        raise PermissionDenied(f"Only the firm's admin can change its {owned.title.lower()}.")
    form = owned.form_class(request.POST or None, instance=instance)
    for field in form.fields.values():
        # Choices offered come from the user's scope, like every other queryset.
        if isinstance(field, ModelChoiceField) and field.queryset.model is Zone:
            field.queryset = queries.zones_for(request.user)
    if request.method == "POST" and form.is_valid():
        fields = owned.fields(form)
        extra = {"reason": form.cleaned_data[owned.reason_field]} if owned.reason_field else {}
        try:
            saved = owned.save(
                ctx.firm,
                actor=request.user,
                fields=fields,
                **{owned.instance_kwarg: instance},
                **extra,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            verb = "saved" if instance else "added"
            messages.success(request, f"The {owned.noun} '{saved}' is {verb}.")
            wanted = fields.get("endpoint_url")
            if wanted is not None and saved.endpoint_url != wanted:
                # The service kept the address: the new one waits for the case officer.
                messages.warning(
                    request,
                    f"The new endpoint {wanted} waits for the case officer's approval; "
                    f"{saved.endpoint_url} stays in use until then.",
                )
            return redirect(ctx.url(owned.key))
    return render(
        request,
        "portal/firm/owned_form.html",
        {
            **ctx.as_context(),
            "owned": owned,
            "form": form,
            "instance": instance,
            "tab": kind,
            **(_endpoint_change_context(request.user, instance) if kind == "nodes" else {}),
        },
        status=400 if request.method == "POST" else 200,
    )
