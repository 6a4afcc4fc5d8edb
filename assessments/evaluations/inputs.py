"""Where an indicator's input comes from, and collecting those inputs for one case.

Source keys, by source kind:
- ``engine_metric``: ``<suite>.metrics.<path>``, e.g. ``payment.metrics.receipt_latency_s.p99``
- ``engine_check``: ``<suite>.checks.<check name>``, e.g. ``crypto.checks.signatures_recover``
  (its outcome: passed True, failed False; inconclusive is its own status; not judged: not
  assessed; a result stored before outcomes reads from its ``passed``)
- ``eligibility``: ``eligibility.<criterion>`` (met True, not met False, unclear or pending:
  not assessed), ``eligibility.rubric`` (share of the five criteria met, once all five are
  assessed), ``safeguards.<name>`` (the safeguard is described) and ``safeguards.completeness``
- ``tier_status``: ``tier.<tier>`` (satisfied or waived True, failed False, else not assessed)
- ``physical``: ``physical.zone_registration`` (registered in a zone), ``physical.servers_on_site``
  (nodes registered for the case, else in the firm's server station) and
  ``physical.personnel_on_site`` (staff stationed on site).

When several chosen test runs ran the same suite, the most recently finished one that
produced the value wins; a reading from an invalid run never displaces a valid run's.
"""

from django.db.models.fields.json import KeyTransform

from applications.models import AssessmentOutcome, Criterion, Tier, TierState
from assessments import outcomes

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


def _invalid_runs(test_run_ids):
    """``{run id: reason}`` of the chosen runs that are invalid (stored outcome, or for a
    run stored without one, an invalid suite)."""
    from assessments.models import SuiteRun, TestRun

    invalid = dict(
        TestRun.objects.filter(pk__in=test_run_ids, outcome=outcomes.INVALID).values_list(
            "pk", "invalid_reason"
        )
    )
    rows = (
        SuiteRun.objects.filter(test_run_id__in=test_run_ids, test_run__outcome="")
        .annotate(
            stored_outcome=KeyTransform("outcome", "result"),
            stored_reason=KeyTransform("invalid_reason", "result"),
        )
        .values_list(
            "test_run_id", "suite", "outcome", "invalid_reason", "stored_outcome", "stored_reason"
        )
    )
    for run_id, suite, outcome, reason, stored, stored_reason in rows.iterator(chunk_size=200):
        if outcomes.INVALID in (outcome, stored):
            reason = reason or stored_reason or "its instrument misbehaved"
            invalid.setdefault(run_id, f"{suite}: {reason}")
    return invalid


def _suite_state(outcome, stored_outcome, passed, checks):
    """``(outcome, why)`` of one stored suite: why it is inconclusive, if it is."""
    if outcome not in outcomes.RUN_OUTCOMES:
        outcome = stored_outcome if stored_outcome in outcomes.RUN_OUTCOMES else None
    if outcome is None:
        outcome = outcomes.from_passed(passed)
    if outcome != outcomes.INCONCLUSIVE:
        return outcome, ""
    return outcome, outcomes.undecided_reason({"checks": checks or []})


def engine_inputs(test_run_ids, keys):
    """``(values, sources)`` of the engine keys among ``keys`` whose reading has a value
    (see ``engine_readings``, which also says which readings cannot decide)."""
    values, sources, _ = engine_readings(test_run_ids, keys)
    kept = {key: value for key, value in values.items() if value is not None}
    return kept, {key: sources[key] for key in kept}


def engine_readings(test_run_ids, keys):
    """Values of the engine keys among ``keys`` from the chosen runs' suite results, and
    the readings that cannot decide.

    Returns ``(values, sources, inconclusive)``; ``inconclusive`` maps a key to why its
    reading cannot decide: a check whose outcome is inconclusive, a metric of a suite
    whose outcome is inconclusive, and anything read from an invalid run (its instrument
    misbehaved, so it is evidence neither for nor against the firm). A check not judged
    gives no value (not assessed). A reading from an invalid run never displaces one from
    a valid run. Streams the suite runs oldest first and reads only the metric paths it
    needs (and the list of checks), so memory does not grow with the number of runs.
    """
    from assessments.models import SuiteRun

    wanted = {}
    for key in keys:
        suite, _, tail = key.partition(".")
        section, _, name = tail.partition(".")
        if suite in SUITES and section in ("metrics", "checks") and name:
            wanted.setdefault(suite, []).append((key, section, name))
    values, sources, inconclusive = {}, {}, {}
    if not wanted or not test_run_ids:
        return values, sources, inconclusive
    invalid_runs = _invalid_runs(test_run_ids)
    metric_paths = sorted(
        {name for items in wanted.values() for _, section, name in items if section == "metrics"}
    )
    aliases = {path: f"metric_{i}" for i, path in enumerate(metric_paths)}
    rows = (
        SuiteRun.objects.filter(test_run_id__in=test_run_ids, suite__in=list(wanted))
        .annotate(**{alias: _json_path("result__metrics", p) for p, alias in aliases.items()})
        .annotate(
            checks=KeyTransform("checks", "result"),
            stored_outcome=KeyTransform("outcome", "result"),
        )
        .order_by("test_run__finished_at", "test_run_id", "pk")
        .values_list(
            "pk",
            "test_run_id",
            "suite",
            "checks",
            "outcome",
            "stored_outcome",
            "passed",
            *aliases.values(),
        )
    )
    from_invalid = set()
    for row in rows.iterator(chunk_size=200):
        pk, run_id, suite, checks, outcome, stored_outcome, passed = row[:7]
        metrics = dict(zip(aliases, row[7:], strict=True))
        checks = checks if isinstance(checks, list) else []
        suite_outcome, undecided = _suite_state(outcome, stored_outcome, passed, checks)
        by_name = {c.get("name"): c for c in checks if isinstance(c, dict)}
        invalid = invalid_runs.get(run_id)
        for key, section, name in wanted[suite]:
            if section == "metrics":
                value, reason = metrics.get(name), ""
                if value is not None and suite_outcome == outcomes.INCONCLUSIVE:
                    reason = f"the {suite} suite of test run {run_id} is inconclusive"
                    reason += f": {undecided}" if undecided else ""
            else:
                check = by_name.get(name)
                outcome_of_check = outcomes.check_outcome(check) if check else None
                value = outcomes.passed_of(outcome_of_check)
                reason = ""
                if outcome_of_check == outcomes.INCONCLUSIVE:
                    message = outcomes.check_message(check)
                    reason = message or f"check {name} of test run {run_id} is inconclusive"
            if value is None and not reason:
                continue
            if invalid:
                if key in values and key not in from_invalid:
                    continue
                reason = f"test run {run_id} is invalid ({invalid}); re-test"
                from_invalid.add(key)
            else:
                from_invalid.discard(key)
            values[key] = value
            sources[key] = {"test_run": run_id, "suite_run": pk}
            if reason:
                inconclusive[key] = reason[: outcomes.TEXT_LIMIT]
                sources[key]["outcome"] = outcomes.INCONCLUSIVE
            else:
                inconclusive.pop(key, None)
    return values, sources, inconclusive


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
    """Every input the tree reads: ``(values, sources, inconclusive)`` keyed by source key
    (``inconclusive``: why a reading cannot decide, see ``engine_readings``)."""
    keys = scoring.needed_keys(tree)
    values, sources, inconclusive = engine_readings(test_run_ids, keys)
    for key, value in case_inputs(application, keys).items():
        if key in keys:
            values[key] = value
            sources[key] = {"case": application.reference}
            inconclusive.pop(key, None)
    return values, sources, inconclusive
