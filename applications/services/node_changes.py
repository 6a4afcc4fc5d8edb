"""Endpoint changes on nodes under supervision: the firm requests, the case officer decides.

A node that a case in the regulator's hands uses (``SUPERVISED_STATES``) keeps its
address until a case officer approves a new one: test runs, monitoring probes and the demo
read the node row, which only an approval changes. Every endpoint is checked by the
outgoing-request policy when it is requested and again when it is approved.
"""

from django.db import transaction
from django.utils import timezone

from sandbox_portal.outgoing import endpoint_refusal

from .. import notifications
from ..models import (
    Application,
    EndpointChangeStatus,
    Node,
    NodeEndpointChange,
)
from ..models.firms import endpoint_validator
from ..models.node_changes import SUPERVISED_STATES
from .common import (
    IllegalTransition,
    ValidationError,
    after_commit,
    record,
    require,
)

MAX_URL_LENGTH = 500
MAX_TEXT_LENGTH = 2000


def check_endpoint(url):
    """Refuse (ValidationError on ``endpoint_url``) an endpoint that is not an http(s) or
    ws(s) URL, or that the outgoing-request policy says may never be a target."""
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise ValidationError(
            {"endpoint_url": [f"An endpoint URL has at most {MAX_URL_LENGTH} characters."]}
        )
    try:
        endpoint_validator(url)
    except ValidationError as exc:
        raise ValidationError({"endpoint_url": exc.messages}) from None
    reason = endpoint_refusal(url)
    if reason:
        raise ValidationError({"endpoint_url": [_refused_text(reason)]})


def _refused_text(reason):
    return f"The portal may not send requests to this endpoint: {reason}."


def supervised_cases(node):
    """The cases in the regulator's hands that use ``node``, oldest first."""
    return Application.objects.filter(nodes=node, state__in=SUPERVISED_STATES).order_by("pk")


def is_supervised(node):
    return supervised_cases(node).exists()


def _case_ids(node):
    return list(supervised_cases(node).values_list("pk", flat=True))


def _close(change, *, status, actor, note, audited=True, **after):
    """Close a pending request as ``status`` and, unless the caller audits it itself,
    record the closing (``node.endpoint_change_<status>``)."""
    change.status = status
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_note = note[:MAX_TEXT_LENGTH]
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    if audited:
        verb = {EndpointChangeStatus.WITHDRAWN: "withdraw", EndpointChangeStatus.REFUSED: "refuse"}
        record(
            actor=actor,
            action=f"node.endpoint_change_{verb[status]}",
            target=change,
            before={"status": EndpointChangeStatus.PENDING},
            after={
                "status": status,
                "node": change.node_id,
                "requested_url": change.requested_url,
                **after,
            },
            reason=note,
        )


def _withdraw(change, *, actor, note):
    _close(change, status=EndpointChangeStatus.WITHDRAWN, actor=actor, note=note)


def withdraw_pending(node, *, actor, note):
    """Withdraw the node's pending request, if any (the caller holds the node's lock)."""
    pending = (
        NodeEndpointChange.objects.select_for_update()
        .filter(node=node, status=EndpointChangeStatus.PENDING)
        .first()
    )
    if pending is not None:
        _withdraw(pending, actor=actor, note=note)
    return pending


def request_change(node, *, actor, url, reason=""):
    """Record the firm's request to move ``node`` (locked by the caller, inside its
    transaction) to ``url``, already checked by ``check_endpoint``.

    Guarantees: the node row is not changed; at most one request per node is pending (an
    earlier pending one is withdrawn, audited); the request is audited; the case officers
    of the supervised cases using the node are told after commit. Asking again for the
    address already pending, with the same reason, changes nothing.
    """
    reason = (reason or "").strip()
    if len(reason) > MAX_TEXT_LENGTH:
        raise ValidationError(
            {"change_reason": [f"Say why in at most {MAX_TEXT_LENGTH} characters."]}
        )
    pending = (
        NodeEndpointChange.objects.select_for_update()
        .filter(node=node, status=EndpointChangeStatus.PENDING)
        .first()
    )
    if pending is not None:
        if pending.requested_url == url and pending.reason == reason:
            return pending
        _withdraw(pending, actor=actor, note="Replaced by a later request.")
    change = NodeEndpointChange(
        node=node,
        old_url=node.endpoint_url,
        requested_url=url,
        reason=reason,
        requested_by=actor,
    )
    change.full_clean()
    change.save()
    record(
        actor=actor,
        action="node.endpoint_change_request",
        target=change,
        before={"endpoint_url": node.endpoint_url},
        after={
            "node": node.pk,
            "requested_url": url,
            "applications": _case_ids(node),
        },
        reason=reason,
    )
    after_commit(notifications.node_change_requested, change.pk)
    return change


def _locked(change):
    locked = NodeEndpointChange.objects.select_for_update().get(pk=change.pk)
    if not locked.is_pending:
        raise IllegalTransition(
            f"This endpoint change is already {locked.get_status_display().lower()}."
        )
    return locked


def _may_decide(actor, change):
    require(actor.is_case_officer, "Only a case officer can decide an endpoint change.")
    require(change.requested_by_id != actor.pk, "Nobody decides their own request.")


def approve_change(change, *, actor, note=""):
    """Case officer: approve a pending endpoint change.

    Guarantees: the requested endpoint is checked again by the outgoing-request policy; if
    it is refused now, the request is refused with that reason and the node is unchanged;
    otherwise the node's endpoint and the request's status change in one transaction with
    one audit event (old and new address, who requested, who approved). The firm is told
    the outcome after commit. Returns the decided request.
    """
    _may_decide(actor, change)
    note = (note or "").strip()[:MAX_TEXT_LENGTH]
    # The policy may resolve a host name: done before any row is locked.
    refusal = endpoint_refusal(change.requested_url)
    with transaction.atomic():
        change = _locked(change)
        _may_decide(actor, change)
        node = Node.objects.select_for_update().get(pk=change.node_id)
        if refusal:
            return _refuse(change, actor=actor, note=_refused_text(refusal), automatic=True)
        before = node.endpoint_url
        node.endpoint_url = change.requested_url
        node.full_clean()
        node.save(update_fields=["endpoint_url"])
        _close(
            change,
            status=EndpointChangeStatus.APPROVED,
            actor=actor,
            note=note,
            audited=False,  # audited below, on the node, with both addresses
        )
        record(
            actor=actor,
            action="node.endpoint_change_approve",
            target=node,
            before={"endpoint_url": before},
            after={
                "endpoint_url": node.endpoint_url,
                "change": change.pk,
                "requested_by": change.requested_by.get_username(),
                "approved_by": actor.get_username(),
                "applications": _case_ids(node),
            },
            reason=note,
        )
        after_commit(notifications.node_change_decided, change.pk)
    return change


def refuse_change(change, *, actor, note):
    """Case officer: refuse a pending endpoint change, saying why.

    Guarantees: the node is unchanged; the request is closed as refused with the note,
    audited; the firm is told after commit. Returns the decided request.
    """
    _may_decide(actor, change)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": ["Say why the change is refused."]})
    if len(note) > MAX_TEXT_LENGTH:
        raise ValidationError({"note": [f"Say why in at most {MAX_TEXT_LENGTH} characters."]})
    with transaction.atomic():
        change = _locked(change)
        _may_decide(actor, change)
        return _refuse(change, actor=actor, note=note, automatic=False)


def _refuse(change, *, actor, note, automatic):
    _close(
        change,
        status=EndpointChangeStatus.REFUSED,
        actor=actor,
        note=note,
        refused_by_policy=automatic,
    )
    after_commit(notifications.node_change_decided, change.pk)
    return change
