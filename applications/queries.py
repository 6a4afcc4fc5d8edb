"""Every queryset a user sees comes from here: one function per model, scoped
by user and action, used by pages, the API and exports alike.

Firm users see their own firm's objects; regulators see every case once it has
been submitted; auditors see only the cases granted to them through the
django-guardian direct foreign-key table; staff see everything.
"""

from .models import (
    Application,
    ApplicationUserObjectPermission,
    Condition,
    Document,
    EligibilityAnswer,
    EndpointChangeStatus,
    Firm,
    FirmMembership,
    FirmReport,
    Node,
    NodeEndpointChange,
    Personnel,
    Project,
    RequestForInformation,
    State,
    TierStatus,
    Zone,
    ZoneRegistration,
)

VIEW = "view"
CHANGE = "change"


def _firm_ids(user):
    return FirmMembership.objects.filter(user=user, is_active=True).values("firm_id")


def _admin_firm_ids(user):
    return FirmMembership.objects.filter(user=user, is_active=True, role="admin").values("firm_id")


def _auditor_application_ids(user):
    return ApplicationUserObjectPermission.objects.filter(
        user=user, permission__codename="view_application"
    ).values("content_object_id")


def _is_all_seeing(user):
    return user.is_superuser or user.is_portal_staff


def applications_for(user, action=VIEW):
    """Cases the user may see (``view``) or edit the content of (``change``)."""
    qs = Application.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == CHANGE:
        if user.is_firm_user:
            return qs.filter(
                firm_id__in=_firm_ids(user), state__in=[State.DRAFT, State.AWAITING_FIRM]
            )
        return qs.none()
    if _is_all_seeing(user):
        return qs
    if user.is_firm_user:
        return qs.filter(firm_id__in=_firm_ids(user))
    if user.is_regulator:
        # A draft the firm withdrew was never submitted: it stays the firm's own.
        return qs.exclude(state=State.DRAFT).exclude(
            state=State.WITHDRAWN, submitted_at__isnull=True
        )
    if user.is_auditor:
        return qs.filter(pk__in=_auditor_application_ids(user))
    return qs.none()


def _by_application(model, user, action=VIEW):
    return model.objects.filter(application__in=applications_for(user, action).values("pk"))


def rfis_for(user, action=VIEW):
    return _by_application(RequestForInformation, user, action)


def documents_for(user, action=VIEW):
    return _by_application(Document, user, action)


def conditions_for(user, action=VIEW):
    return _by_application(Condition, user, action)


def firm_reports_for(user, action=VIEW):
    return _by_application(FirmReport, user, action)


def eligibility_for(user, action=VIEW):
    return _by_application(EligibilityAnswer, user, action)


def tier_statuses_for(user, action=VIEW):
    return _by_application(TierStatus, user, action)


def firms_for(user, action=VIEW):
    """Firms a user may see; ``change`` is for firm admins of their own firm."""
    qs = Firm.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == CHANGE:
        if _is_all_seeing(user):
            return qs
        return qs.filter(pk__in=_admin_firm_ids(user)) if user.is_firm_user else qs.none()
    if _is_all_seeing(user) or user.is_regulator:
        return qs
    if user.is_firm_user:
        return qs.filter(pk__in=_firm_ids(user))
    if user.is_auditor:
        return qs.filter(
            pk__in=Application.objects.filter(pk__in=_auditor_application_ids(user)).values(
                "firm_id"
            )
        )
    return qs.none()


def _firm_owned(model, user, action=VIEW):
    """Objects owned by a firm: the firm's own users see and change them;
    regulators and auditors see them where they see the firm."""
    qs = model.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == CHANGE:
        if _is_all_seeing(user):
            return qs
        return qs.filter(firm_id__in=_firm_ids(user)) if user.is_firm_user else qs.none()
    return qs.filter(firm_id__in=firms_for(user).values("pk"))


def projects_for(user, action=VIEW):
    return _firm_owned(Project, user, action)


def nodes_for(user, action=VIEW):
    return _firm_owned(Node, user, action)


def node_changes_for(user, action=VIEW):
    """Endpoint change requests: a firm's users see their firm's, regulators and staff
    all of them, auditors none. ``change`` (deciding one) is for case officers."""
    qs = NodeEndpointChange.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == CHANGE:
        return qs if user.is_case_officer else qs.none()
    if _is_all_seeing(user) or user.is_regulator:
        return qs
    if user.is_firm_user:
        return qs.filter(node__firm_id__in=_firm_ids(user))
    return qs.none()


def pending_node_changes_for(user, application):
    """The pending endpoint changes on the nodes a case uses, as ``user`` may see them."""
    return (
        node_changes_for(user)
        .filter(status=EndpointChangeStatus.PENDING, node__applications=application)
        .select_related("node", "requested_by")
        .order_by("requested_at", "pk")
    )


def personnel_for(user, action=VIEW):
    return _firm_owned(Personnel, user, action)


def zone_registrations_for(user, action=VIEW):
    return _firm_owned(ZoneRegistration, user, action)


def memberships_for(user, action=VIEW):
    """Memberships: a firm's users see their colleagues; only its admins change them."""
    qs = FirmMembership.objects.select_related("user", "firm")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if _is_all_seeing(user):
        return qs
    if not user.is_firm_user:
        return qs.none()
    firm_ids = _admin_firm_ids(user) if action == CHANGE else _firm_ids(user)
    return qs.filter(firm_id__in=firm_ids)


def zones_for(user, action=VIEW):
    qs = Zone.objects.all()
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if action == CHANGE:
        return qs if _is_all_seeing(user) else qs.none()
    return qs


# Events that belong to the regulator's own deliberation: firm users never see them.
REGULATOR_INTERNAL_ACTIONS = (
    "application.recommend",
    "application.assign_auditor",
    "application.revoke_auditor",
    # A draft evaluation (and its score) is the regulator's own until it is issued.
    "evaluation.create",
)


def audit_events_for(user, application=None):
    """The timeline: events of cases the user may see (for firm users, without
    the regulator's internal deliberation)."""
    from sandbox_portal.audit.models import AuditEvent

    qs = AuditEvent.objects.select_related("actor")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_firm_user and not _is_all_seeing(user):
        qs = qs.exclude(action__in=REGULATOR_INTERNAL_ACTIONS)
    if application is not None:
        if not applications_for(user).filter(pk=application.pk).exists():
            return qs.none()
        return qs.filter(application_id=application.pk)
    if _is_all_seeing(user):
        return qs
    return qs.filter(application_id__in=applications_for(user).values("pk"))


def regulators_qs():
    from sandbox_portal.accounts.models import REGULATOR_ROLES, User

    return User.objects.filter(role__in=REGULATOR_ROLES, is_active=True)


def assignable_officers():
    from sandbox_portal.accounts.models import Role, User

    return User.objects.filter(role=Role.CASE_OFFICER, is_active=True)


def auditors_qs():
    from sandbox_portal.accounts.models import Role, User

    return User.objects.filter(role=Role.AUDITOR, is_active=True)


def application_list(user, action=VIEW):
    """The queue and the case lists, with what a row shows loaded up front."""
    return (
        applications_for(user, action)
        .select_related("firm", "project", "case_officer", "cohort")
        .prefetch_related("rfis")
    )


def own_memberships(user):
    """The user's own active firm memberships, oldest first: the firm pages
    work on one of these firms at a time."""
    qs = FirmMembership.objects.select_related("firm")
    if not user.is_authenticated or not user.is_active or not user.is_firm_user:
        return qs.none()
    return qs.filter(user=user, is_active=True).order_by("created_at", "pk")


def sees_recommendation(user):
    """A case officer's recommendation is internal to the regulator (and its
    auditors) until the decision: firm users never see it."""
    return user.is_authenticated and not user.is_firm_user
