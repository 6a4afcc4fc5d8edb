"""Firms and the physical tier: members, projects, zone registrations,
personnel on site and the server station."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .. import notifications
from ..models import (
    FirmMembership,
    MembershipRole,
    Node,
    Personnel,
    Project,
    ZoneRegistration,
)
from . import node_changes
from .common import (
    ValidationError,
    after_commit,
    diff,
    is_firm_admin,
    is_firm_member,
    record,
    require,
    snapshot,
)


def invite_member(
    firm, *, actor, username, email, first_name="", last_name="", role=MembershipRole.MEMBER
):
    """Firm admin: create a colleague's account and email them a link to set
    their password."""
    from sandbox_portal.accounts.models import Role

    require(is_firm_admin(actor, firm.pk), "Only the firm's admin can invite members.")
    User = get_user_model()
    if role not in MembershipRole.values:
        raise ValidationError("Choose admin or member.")
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(f"The username '{username}' is taken.")
    if not email:
        raise ValidationError("An invitation needs an email address.")
    with transaction.atomic():
        user = User(
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            role=Role.FIRM,
        )
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        membership = FirmMembership.objects.create(
            firm=firm, user=user, role=role, invited_by=actor
        )
        record(
            actor=actor,
            action="firm.invite_member",
            target=membership,
            after={"username": username, "email": email, "role": role, "firm": firm.pk},
        )
        after_commit(notifications.member_invited, membership.pk)
    return membership


def remove_member(membership, *, actor):
    """Firm admin: end a colleague's membership. The account and its history stay."""
    require(is_firm_admin(actor, membership.firm_id), "Only the firm's admin can remove members.")
    with transaction.atomic():
        membership = FirmMembership.objects.select_for_update().get(pk=membership.pk)
        if not membership.is_active:
            raise ValidationError("This member has already been removed.")
        if membership.is_admin:
            admins = FirmMembership.objects.filter(
                firm_id=membership.firm_id, role=MembershipRole.ADMIN, is_active=True
            ).count()
            if admins <= 1:
                raise ValidationError("A firm keeps at least one admin.")
        membership.is_active = False
        membership.removed_at = timezone.now()
        membership.save(update_fields=["is_active", "removed_at"])
        user = membership.user
        if not user.memberships.filter(is_active=True).exists():
            user.is_active = False
            user.save(update_fields=["is_active"])
        record(
            actor=actor,
            action="firm.remove_member",
            target=membership,
            before={"is_active": True},
            after={"is_active": False, "username": user.username},
        )
    return membership


def _save_owned(model, *, actor, firm, instance=None, fields, action, admin_only=False):
    """Create or edit a firm-owned record, validated and audited."""
    check = is_firm_admin if admin_only else is_firm_member
    require(
        check(actor, firm.pk) or actor.is_portal_staff,
        "Only the firm's own users can change this."
        if not admin_only
        else "Only the firm's admin can change this.",
    )
    names = list(fields)
    with transaction.atomic():
        if instance is None:
            instance = model(firm=firm, **fields)
            before = {}
        else:
            instance = model.objects.select_for_update().filter(pk=instance.pk, firm=firm).first()
            require(instance is not None, "This record belongs to another firm.")
            before = snapshot(instance, names)
            for name, value in fields.items():
                setattr(instance, name, value)
        instance.full_clean()
        instance.save()
        after = snapshot(instance, names)
        changed_before, changed_after = diff(before, after)
        record(
            actor=actor,
            action=action,
            target=instance,
            before=changed_before or None,
            after=changed_after,
        )
    return instance


def save_project(firm, *, actor, fields, project=None):
    return _save_owned(
        Project,
        actor=actor,
        firm=firm,
        instance=project,
        fields=fields,
        action="project.update" if project else "project.create",
    )


def save_node(firm, *, actor, fields, node=None, reason=""):
    """Register or edit a node in the server station; only registered endpoints are
    ever tested.

    Guarantees: a new endpoint is an http(s) or ws(s) URL the outgoing-request policy
    accepts (refused otherwise, with its reason, and nothing changes). On a node that a
    case in the regulator's hands uses, a new endpoint becomes a pending request for the
    case officer (``node_changes.request_change``, ``reason`` is the firm's) and the node
    keeps its address until approval; its other fields change at once. Elsewhere the
    endpoint changes at once and any request still pending is withdrawn. Audited.
    Returns the node as saved.
    """
    fields = dict(fields)
    url = fields.get("endpoint_url")
    # The policy may resolve a host name: checked before any row is locked.
    checked = url is not None and (node is None or url != node.endpoint_url)
    if checked:
        node_changes.check_endpoint(url)
    if node is None:
        return _save_owned(Node, actor=actor, firm=firm, fields=fields, action="node.register")
    require(
        is_firm_member(actor, firm.pk) or actor.is_portal_staff,
        "Only the firm's own users can change this.",
    )
    with transaction.atomic():
        locked = Node.objects.select_for_update().filter(pk=node.pk, firm=firm).first()
        require(locked is not None, "This record belongs to another firm.")
        moves = url is not None and url != locked.endpoint_url
        if moves and not checked:  # ``node`` was stale: its row held another address
            node_changes.check_endpoint(url)
        if moves and node_changes.is_supervised(locked):
            del fields["endpoint_url"]
            node_changes.request_change(locked, actor=actor, url=url, reason=reason)
            if all(getattr(locked, name) == value for name, value in fields.items()):
                return locked
        elif moves:
            node_changes.withdraw_pending(
                locked,
                actor=actor,
                note="The endpoint was changed while no case under review used the node.",
            )
        return _save_owned(
            Node, actor=actor, firm=firm, instance=locked, fields=fields, action="node.update"
        )


def save_personnel(firm, *, actor, fields, person=None):
    return _save_owned(
        Personnel,
        actor=actor,
        firm=firm,
        instance=person,
        fields=fields,
        action="personnel.update" if person else "personnel.add",
    )


def save_zone_registration(firm, *, actor, fields, registration=None):
    return _save_owned(
        ZoneRegistration,
        actor=actor,
        firm=firm,
        instance=registration,
        fields=fields,
        action="zone_registration.update" if registration else "zone_registration.create",
        admin_only=True,
    )
