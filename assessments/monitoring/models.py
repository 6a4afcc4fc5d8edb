"""Runtime monitoring (L3) of admitted cases: alert rules, samples, aggregates, incidents.

Every ``MONITORING_PROBE_INTERVAL_S`` (10 s) each node registered for a monitored case is
probed once; the answer is one ``ProbeSample`` row. ``retention.roll_up`` folds complete
minutes of samples into per-minute ``ProbeRollup`` rows and complete hours of those into
per-hour rows, then deletes raw samples older than ``MONITORING_RAW_HOURS`` (48 h) and
per-minute rows older than ``MONITORING_MINUTE_DAYS`` (30 days). Per-hour rows are kept.

Storage bound, per node and case, at the defaults (a row is about 120 bytes of data plus
about 100 bytes of index entries, say 250 bytes):

- raw samples: 6 a minute x 60 x 48 h = 17,280 rows, about 4.3 MB, whatever the age;
- per-minute rows: 1,440 a day x 30 days = 43,200 rows, about 11 MB, whatever the age;
- per-hour rows: 24 a day = 8,760 rows a year, about 2.2 MB a year.

So a year of 10 s samples of one node (3,153,600 probes, some 790 MB if all were kept)
takes about 17.5 MB: 15 MB that stays constant plus 2.2 MB for each year of history.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from applications.models import State

# Admitted and live: the cases whose nodes are probed.
MONITORED_STATES = [
    State.ADMITTED,
    State.ADMITTED_WITH_CONDITIONS,
    State.IN_SANDBOX,
    State.EXIT_REVIEW,
]


class Rule(models.TextChoices):
    NODE_DOWN = "node_down", "Node down"
    STALLED_CHAIN = "stalled_chain", "Chain stalled"
    FORK = "fork", "Nodes disagree at a final height"
    REORG = "reorg", "Deep reorganisation"
    LATENCY = "latency_over_bound", "RPC latency over bound"


class AlertRules(models.Model):
    """The thresholds of a case's alert rules; a case without a row uses the defaults."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="monitoring_rules"
    )
    stall_blocks = models.PositiveIntegerField(
        "stalled after (block times)",
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text="The chain is stalled when a node's head has not moved for this many block "
        "times.",
    )
    block_time_s = models.FloatField(
        "block time (s)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.05), MaxValueValidator(3600)],
        help_text="The chain's expected block time. Leave empty to use the median interval "
        "the probes observe.",
    )
    finality_depth = models.PositiveIntegerField(
        "finality depth (blocks)",
        default=2,
        validators=[MaxValueValidator(10_000)],
        help_text="Blocks this far below the lowest head are final: two nodes holding "
        "different blocks there is a fork.",
    )
    max_reorg_depth = models.PositiveIntegerField(
        "largest tolerated reorganisation (blocks)",
        default=2,
        validators=[MaxValueValidator(10_000)],
        help_text="A node replacing more blocks it reported earlier than this raises an alert.",
    )
    latency_bound_s = models.FloatField(
        "RPC latency bound, p95 (s)",
        default=2.0,
        validators=[MinValueValidator(0.0001), MaxValueValidator(600)],
        help_text="An alert is raised when the 95th percentile of a node's answer times over "
        "the window is above this.",
    )
    latency_window_s = models.PositiveIntegerField(
        "latency window (s)",
        default=300,
        validators=[MinValueValidator(10), MaxValueValidator(3600)],
        help_text="The recent window the latency percentile is taken over.",
    )
    down_after_probes = models.PositiveSmallIntegerField(
        "down after (failed probes)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="A node is down after this many probes in a row without an answer.",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "alert rules"
        verbose_name_plural = "alert rules"

    def __str__(self):
        return f"Alert rules of case {self.application_id}"

    EDITABLE = (
        "stall_blocks",
        "block_time_s",
        "finality_depth",
        "max_reorg_depth",
        "latency_bound_s",
        "latency_window_s",
        "down_after_probes",
    )

    def as_dict(self):
        return {name: getattr(self, name) for name in self.EDITABLE}


class MonitorState(models.Model):
    """What the prober keeps between two probes of a case (one row per case).

    ``probing_since`` is the lock that keeps two probes of one case from overlapping;
    ``heads`` is each node's latest head as last seen (and since when); ``checkpoints``
    the block hashes each node reported at a few recent heights, re-read by the next
    probe to notice a reorganisation.
    """

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="monitor_state"
    )
    probing_since = models.DateTimeField(null=True, blank=True)
    last_probe_at = models.DateTimeField(null=True, blank=True)
    last_probe_s = models.FloatField(null=True, blank=True, help_text="How long it took.")
    heads = models.JSONField(default=dict, blank=True)
    checkpoints = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"Monitoring state of case {self.application_id}"


class ProbeSample(models.Model):
    """One node's answer to one probe (raw; kept for ``MONITORING_RAW_HOURS``)."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="+"
    )
    node = models.ForeignKey("applications.Node", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    up = models.BooleanField()
    latency_ms = models.FloatField(null=True, blank=True)
    height = models.BigIntegerField(null=True, blank=True)
    block_hash = models.CharField(max_length=66, blank=True)
    block_interval_s = models.FloatField(null=True, blank=True)
    peers = models.IntegerField(null=True, blank=True)
    lag = models.IntegerField(null=True, blank=True, help_text="Blocks behind the highest node.")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["application", "node", "at"], name="monitoring_sample_node_at"),
            models.Index(fields=["at"], name="monitoring_sample_at"),
        ]

    def __str__(self):
        return f"{self.node_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class Resolution(models.TextChoices):
    MINUTE = "minute", "Per minute"
    HOUR = "hour", "Per hour"


class ProbeRollup(models.Model):
    """The samples of one node over one minute or hour, folded into aggregates."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="+"
    )
    node = models.ForeignKey("applications.Node", on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(max_length=6, choices=Resolution.choices)
    bucket = models.DateTimeField(help_text="Start of the minute or hour.")
    samples = models.PositiveIntegerField()
    up_samples = models.PositiveIntegerField()
    latency_min_ms = models.FloatField(null=True, blank=True)
    latency_mean_ms = models.FloatField(null=True, blank=True)
    latency_max_ms = models.FloatField(null=True, blank=True)
    first_height = models.BigIntegerField(null=True, blank=True)
    last_height = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=66, blank=True)
    interval_count = models.PositiveIntegerField(default=0)
    interval_mean_s = models.FloatField(null=True, blank=True)
    interval_max_s = models.FloatField(null=True, blank=True)
    max_lag = models.IntegerField(null=True, blank=True)
    min_peers = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["bucket", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "node", "resolution", "bucket"],
                name="monitoring_one_rollup_per_bucket",
            )
        ]
        indexes = [models.Index(fields=["resolution", "bucket"], name="monitoring_rollup_bucket")]

    def __str__(self):
        return f"{self.node_id} {self.resolution} {self.bucket:%Y-%m-%d %H:%M}"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLEARED = "cleared", "Cleared"


class Incident(models.Model):
    """An alert on a case: opened when a rule's condition is first seen, cleared when it no
    longer holds. While one is open, the same condition opens no other (``key``)."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="incidents"
    )
    rule = models.CharField(max_length=30, choices=Rule.choices)
    key = models.CharField(max_length=120, help_text="The rule and the node it concerns.")
    nodes = models.ManyToManyField("applications.Node", blank=True, related_name="+")
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN, db_index=True
    )
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    cleared_reason = models.CharField(max_length=200, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "key"],
                condition=Q(status="open"),
                name="monitoring_one_open_incident_per_key",
            )
        ]

    def __str__(self):
        return f"{self.get_rule_display()} ({self.detail.get('node') or self.key})"

    @property
    def is_open(self):
        return self.status == IncidentStatus.OPEN

    @property
    def duration_s(self):
        end = self.cleared_at or self.last_seen_at
        return max(0.0, (end - self.opened_at).total_seconds())
