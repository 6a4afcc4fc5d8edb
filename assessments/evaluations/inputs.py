"""Where an indicator's input comes from, and collecting those inputs for one case.

Source keys, by source kind:
- ``engine_metric``: ``<suite>.metrics.<path>``, e.g. ``payment.metrics.receipt_latency_s.p99``
- ``engine_check``: ``<suite>.checks.<check name>``, e.g. ``crypto.checks.signatures_recover``
  (its ``passed``: True, False, or None when the engine could not judge it)
- ``eligibility``: ``eligibility.<criterion>`` (met True, not met False, unclear or pending:
  not assessed), ``eligibility.rubric`` (share of the five criteria met, once all five are
  assessed), ``safeguards.<name>`` (the safeguard is described) and ``safeguards.completeness``
- ``tier_status``: ``tier.<tier>`` (satisfied or waived True, failed False, else not assessed)
- ``physical``: ``physical.zone_registration`` (registered in a zone), ``physical.servers_on_site``
  (nodes registered for the case, else in the firm's server station) and
  ``physical.personnel_on_site`` (staff stationed on site).

When several chosen test runs ran the same suite, the most recently finished one that
produced the value wins.
"""

from django.db.models.fields.json import KeyTransform

from applications.models import AssessmentOutcome, Criterion, Tier, TierState

from . import scoring

SUITES = (
    "block",
    "crypto",
    "consensus",
    "payment",
    "clearing",
    "monitoring",
    "consensus_trace",
    "ledger",
)
SAFEGUARDS = ("consent", "disclosure", "complaints", "compensation", "capital")
PHYSICAL_KEYS = ("zone_registration", "servers_on_site", "personnel_on_site")
CRITERIA = tuple(value for value, _ in Criterion.choices)
TIERS = tuple(value for value, _ in Tier.choices)
SOURCE_KINDS = ("engine_metric", "engine_check", "eligibility", "tier_status", "physical")


def source_error(kind, key):
    """Why ``key`` is not a valid source of kind ``kind``; None when it is."""
    if kind not in SOURCE_KINDS:
        return f"unknown source kind {kind!r} (one of {', '.join(SOURCE_KINDS)})"
    if not isinstance(key, str) or not key:
        return "missing"
    head, _, rest = key.partition(".")
    if kind in ("engine_metric", "engine_check"):
        section = "metrics" if kind == "engine_metric" else "checks"
        suite, _, tail = key.partition(".")
        sect, _, name = tail.partition(".")
        if suite not in SUITES:
            return f"unknown suite {suite!r} in {key!r} (one of {', '.join(SUITES)})"
        if sect != section or not name:
            return f"{key!r} is not of the form {suite}.{section}.<name>"
        return None
    if kind == "eligibility":
        if head == "eligibility" and (rest in CRITERIA or rest == "rubric"):
            return None
        if head == "safeguards" and (rest in SAFEGUARDS or rest == "completeness"):
            return None
        return f"{key!r} is not an eligibility criterion, the rubric or a safeguard"
    if kind == "tier_status":
        return None if head == "tier" and rest in TIERS else f"{key!r} is not tier.<tier>"
    if head == "physical" and rest in PHYSICAL_KEYS:
        return None
    return f"{key!r} is not one of physical.{', physical.'.join(PHYSICAL_KEYS)}"


def _json_path(field, path):
    expr = field
    for part in path.split("."):
        expr = KeyTransform(part, expr)
    return expr


def engine_inputs(test_run_ids, keys):
    """Values of the engine keys among ``keys`` from the chosen runs' suite results.

    Streams the suite runs oldest first and reads only the metric paths it needs (and the
    list of checks), so memory does not grow with the number of runs.
    """
    from assessments.models import SuiteRun

    wanted = {}
    for key in keys:
        suite, _, tail = key.partition(".")
        section, _, name = tail.partition(".")
        if suite in SUITES and section in ("metrics", "checks") and name:
            wanted.setdefault(suite, []).append((key, section, name))
    values, sources = {}, {}
    if not wanted or not test_run_ids:
        return values, sources
    metric_paths = sorted(
        {name for items in wanted.values() for _, section, name in items if section == "metrics"}
    )
    aliases = {path: f"metric_{i}" for i, path in enumerate(metric_paths)}
    rows = (
        SuiteRun.objects.filter(test_run_id__in=test_run_ids, suite__in=list(wanted))
        .annotate(**{alias: _json_path("result__metrics", p) for p, alias in aliases.items()})
        .annotate(checks=KeyTransform("checks", "result"))
        .order_by("test_run__finished_at", "test_run_id", "pk")
        .values_list("pk", "test_run_id", "suite", "checks", *aliases.values())
    )
    for row in rows.iterator(chunk_size=200):
        pk, run_id, suite, checks = row[:4]
        metrics = dict(zip(aliases, row[4:], strict=True))
        by_name = {}
        if any(section == "checks" for _, section, _ in wanted[suite]):
            by_name = {
                c.get("name"): c.get("passed") for c in (checks or []) if isinstance(c, dict)
            }
        for key, section, name in wanted[suite]:
            value = metrics.get(name) if section == "metrics" else by_name.get(name)
            if value is not None:
                values[key] = value
                sources[key] = {"test_run": run_id, "suite_run": pk}
    return values, sources


def case_inputs(application, keys):
    """Values of the eligibility, safeguard, tier and physical keys among ``keys``."""
    values = {}
    keys = set(keys)
    if any(k.startswith("eligibility.") for k in keys):
        outcomes = dict(application.eligibility.values_list("criterion", "assessment"))
        for criterion in CRITERIA:
            outcome = outcomes.get(criterion, AssessmentOutcome.PENDING)
            if outcome == AssessmentOutcome.MET:
                values[f"eligibility.{criterion}"] = True
            elif outcome == AssessmentOutcome.NOT_MET:
                values[f"eligibility.{criterion}"] = False
        judged = [outcomes.get(c) for c in CRITERIA]
        if all(o in (AssessmentOutcome.MET, AssessmentOutcome.NOT_MET) for o in judged):
            values["eligibility.rubric"] = judged.count(AssessmentOutcome.MET) / len(CRITERIA)
    if any(k.startswith("safeguards.") for k in keys):
        described = [bool(getattr(application, f"safeguard_{s}").strip()) for s in SAFEGUARDS]
        values.update({f"safeguards.{s}": d for s, d in zip(SAFEGUARDS, described, strict=True)})
        values["safeguards.completeness"] = sum(described) / len(SAFEGUARDS)
    if any(k.startswith("tier.") for k in keys):
        for tier, status in application.tier_statuses.values_list("tier", "status"):
            if status in (TierState.SATISFIED, TierState.WAIVED):
                values[f"tier.{tier}"] = True
            elif status == TierState.FAILED:
                values[f"tier.{tier}"] = False
    firm = application.firm
    if "physical.zone_registration" in keys:
        values["physical.zone_registration"] = firm.zone_registrations.exists()
    if "physical.servers_on_site" in keys:
        count = application.nodes.count()
        values["physical.servers_on_site"] = count or firm.nodes.count()
    if "physical.personnel_on_site" in keys:
        values["physical.personnel_on_site"] = firm.personnel.filter(on_site=True).count()
    return values


def collect(application, test_run_ids, tree):
    """Every input the tree reads: ``(values, sources)`` keyed by source key."""
    keys = scoring.needed_keys(tree)
    values, sources = engine_inputs(test_run_ids, keys)
    for key, value in case_inputs(application, keys).items():
        if key in keys:
            values[key] = value
            sources[key] = {"case": application.reference}
    return values, sources
