import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    """One thing that happened. Events are chained: each stores the hash of the
    one before it, so editing or removing an event breaks every hash after it."""

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    application_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.seq} {self.action} {self.object_repr}"

    def canonical(self):
        """The fields the hash covers, as canonical JSON."""
        body = {
            "seq": self.seq,
            "created_at": self.created_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "application_id": self.application_id,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            "request_id": self.request_id,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)

    def compute_hash(self):
        return hashlib.sha256(self.canonical().encode()).hexdigest()


class AuditChainHead(models.Model):
    """A single row locked while an event is appended, so the chain never forks."""

    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
