"""Appending to and verifying the hash-chained audit trail."""

import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .context import current_request_id
from .models import GENESIS_HASH, AuditChainHead, AuditEvent


def _object_fields(target):
    if target is None:
        return "", "", ""
    return target._meta.label_lower, str(target.pk), str(target)[:200]


def _application_id_of(target):
    if target is None:
        return None
    if target._meta.label_lower == "applications.application":
        return target.pk
    return getattr(target, "application_id", None)


def record(*, actor, action, target=None, before=None, after=None, reason="", application_id=None):
    """Append one event to the chain inside the caller's transaction.

    The chain head row is locked for the append, so concurrent writers queue
    rather than fork the chain; if the caller's transaction rolls back, the
    event goes with it.
    """
    object_type, object_id, object_repr = _object_fields(target)
    if application_id is None:
        application_id = _application_id_of(target)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.pk else None,
            actor_name=(actor.get_username() if actor is not None and actor.pk else ""),
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            application_id=application_id,
            before=before,
            after=after,
            reason=reason or "",
            request_id=current_request_id(),
            prev_hash=head.last_hash,
        )
        # Store what the JSON column will give back, so the hash is reproducible.
        event.before = _roundtrip(before)
        event.after = _roundtrip(after)
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        head.last_seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


def _roundtrip(value):
    if value is None:
        return None
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@dataclass
class ChainReport:
    intact: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""


def verify_chain(batch_size=2000):
    """Walk the whole chain in order; report the first event whose stored hash,
    link to its predecessor or sequence number is wrong, and any events
    removed from the end (the chain head remembers the last one appended)."""
    # Read the head first: events appended while the walk runs come after it.
    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first()
    head_seq, head_hash = head or (0, GENESIS_HASH)
    hash_at_head = GENESIS_HASH
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainReport(False, checked, event.seq, f"sequence gap: expected #{expected_seq}")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.seq, "link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return ChainReport(False, checked, event.seq, "content does not match its hash")
        if event.seq == head_seq:
            hash_at_head = event.hash
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if head_seq > checked:
        return ChainReport(False, checked, head_seq, "the last event is missing")
    if hash_at_head != head_hash or (
        head is None and checked and not AuditChainHead.objects.filter(pk=1).exists()
    ):
        return ChainReport(False, checked, head_seq or checked, "the chain head does not match")
    return ChainReport(True, checked)
