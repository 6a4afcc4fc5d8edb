"""Requests to move a node under supervision to another endpoint.

Once a case using a node is in the regulator's hands, the node's address is part of
what the regulator reviews and tests: a new address waits here for the case
officer's approval, and the node row (which runs, probes and the demo read) keeps the
old one until then.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .choices import State
from .firms import Node, endpoint_validator

# A node used by a case in one of these states has an address the regulator has begun
# to review, test or monitor: changing it needs the case officer's approval. Before
# screening nobody has looked at it yet; a rejected, exited or withdrawn case is never
# tested or probed again, so its nodes are the firm's to change.
SUPERVISED_STATES = tuple(
    state
    for state in State
    if state not in {State.DRAFT, State.SUBMITTED, State.REJECTED, State.EXITED, State.WITHDRAWN}
)


class EndpointChangeStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"


class NodeEndpointChange(models.Model):
    """A firm's request to change a supervised node's endpoint URL, and the case
    officer's decision on it. Nothing is deleted: a replaced request is withdrawn."""

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="endpoint_changes")
    old_url = models.CharField("current endpoint", max_length=500)
    requested_url = models.CharField(
        "requested endpoint", max_length=500, validators=[endpoint_validator]
    )
    reason = models.TextField(blank=True, max_length=2000, help_text="Why the firm moves it.")
    status = models.CharField(
        max_length=10,
        choices=EndpointChangeStatus.choices,
        default=EndpointChangeStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # A second request replaces the first; two pending ones would make
            # "the change awaiting approval" ambiguous.
            models.UniqueConstraint(
                fields=["node"],
                condition=Q(status="pending"),
                name="one_pending_endpoint_change_per_node",
            ),
        ]

    def __str__(self):
        return f"{self.node.label}: {self.old_url} -> {self.requested_url}"

    @property
    def is_pending(self):
        return self.status == EndpointChangeStatus.PENDING
