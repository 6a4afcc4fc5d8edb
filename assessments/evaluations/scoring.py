"""Scoring an index tree against a set of inputs. Pure Python: no Django in here.

The tree is plain data (the shape ``yaml_io`` reads and writes)::

    {"admit_threshold": 80, "conditions_threshold": 60,
     "layers": [{"code", "name", "weight",
                 "dimensions": [{"code", "name", "weight",
                                 "indicators": [{"code", "name", "weight", "source_kind",
                                                 "source_key", "rule": {...}, "mandatory",
                                                 "categories", "levels", "pfmi_principle"}]}]}]}

``inputs`` maps a source key to its value; a key that is absent or None is *not assessed*.
``inconclusive`` maps a source key to why its reading cannot decide (an engine check or
suite that was inconclusive, a run whose instrument misbehaved): such an indicator is
*inconclusive*, neither passed nor failed.
Guarantees:
- every applicable indicator scores 0-100 or is "not assessed" or "inconclusive", never a
  silent zero;
- a not-assessed or inconclusive indicator (or a dimension or layer with nothing scored) is
  left out of the weighted mean above it, and the remaining weights are renormalised;
- a failed applicable mandatory indicator always yields ``reject``;
- otherwise an inconclusive applicable mandatory indicator always yields ``retest``, never
  an admission, with the reason ("Indicator X is inconclusive: ...; re-test before
  admission"). Only a failed indicator counts against the firm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PASS_FAIL = "pass_fail"
THRESHOLD = "threshold"
LINEAR = "linear"
RULES = (PASS_FAIL, THRESHOLD, LINEAR)
OPERATORS = ("<=", "<", ">=", ">")

ADMIT = "admit"
ADMIT_WITH_CONDITIONS = "admit_with_conditions"
REJECT = "reject"
# Not a decision: what the evaluation recommends while a mandatory indicator cannot decide.
RETEST = "retest"

PASSED = "passed"
FAILED = "failed"
NOT_ASSESSED = "not_assessed"
NOT_APPLICABLE = "not_applicable"
INCONCLUSIVE = "inconclusive"

DEFAULT_ADMIT_THRESHOLD = 80.0
DEFAULT_CONDITIONS_THRESHOLD = 60.0


@dataclass(frozen=True)
class Scored:
    """One indicator's outcome: a score 0-100 and a verdict, or not assessed (score None)."""

    score: float | None
    status: str
    note: str = ""


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def _compare(value, operator, bound):
    return {
        "<=": value <= bound,
        "<": value < bound,
        ">=": value >= bound,
        ">": value > bound,
    }[operator]


def score_rule(rule: dict, value) -> Scored:
    """Score one input against one rule (``rule["kind"]`` is pass_fail, threshold or linear)."""
    if value is None:
        return Scored(None, NOT_ASSESSED, "no input")
    kind = rule.get("kind", PASS_FAIL)
    if kind == PASS_FAIL:
        if not isinstance(value, bool):
            return Scored(None, NOT_ASSESSED, "the input is not a pass or fail")
        return Scored(100.0, PASSED) if value else Scored(0.0, FAILED)
    number = _number(value)
    if number is None:
        return Scored(None, NOT_ASSESSED, "the input is not a number")
    if kind == THRESHOLD:
        ok = _compare(number, rule["operator"], float(rule["value"]))
        return Scored(100.0, PASSED) if ok else Scored(0.0, FAILED)
    if kind == LINEAR:
        lower, upper = float(rule["lower"]), float(rule["upper"])
        span = upper - lower
        if span <= 0:
            return Scored(None, NOT_ASSESSED, "the rule's bounds are not increasing")
        fraction = (number - lower) / span
        if not rule.get("higher_is_better", True):
            fraction = 1.0 - fraction
        score = round(100.0 * min(1.0, max(0.0, fraction)), 4)
        return Scored(score, PASSED if score > 0 else FAILED)
    return Scored(None, NOT_ASSESSED, f"unknown rule {kind!r}")


def applies(indicator: dict, category: str | None, level: int | None) -> bool:
    """Whether an indicator applies to a project category and a target technical level."""
    categories = indicator.get("categories") or []
    levels = indicator.get("levels") or []
    return (not categories or category in categories) and (not levels or level in levels)


def weighted_mean(parts):
    """Mean of (score, weight) pairs, skipping None scores and renormalising the weights."""
    scored = [(s, float(w)) for s, w in parts if s is not None and float(w) > 0]
    total = sum(w for _, w in scored)
    if not scored or total <= 0:
        return None
    return round(sum(s * w for s, w in scored) / total, 4)


def blocker_text(name, reason):
    """Why an inconclusive mandatory indicator blocks admission, in one sentence."""
    return f"Indicator {name} is inconclusive: {reason}; re-test before admission"


def recommend(
    overall,
    mandatory_failed,
    mandatory_not_assessed,
    admit_at,
    conditions_at,
    mandatory_inconclusive=(),
):
    """admit / admit_with_conditions / reject / retest, with the reasons in words.

    A failed mandatory indicator rejects. An inconclusive mandatory indicator (``(name,
    reason)`` pairs) asks for a re-test: no admission until it is decided. Admission needs
    the admit threshold and every mandatory indicator assessed; from the conditions
    threshold (or at the admit threshold with a mandatory indicator not assessed) it is
    admission with conditions; below, reject.
    """
    if mandatory_failed:
        return REJECT, ["mandatory indicator failed: " + ", ".join(mandatory_failed)]
    if mandatory_inconclusive:
        return RETEST, [blocker_text(name, reason) for name, reason in mandatory_inconclusive]
    if overall is None:
        return REJECT, ["no applicable indicator could be assessed"]
    if overall >= admit_at and not mandatory_not_assessed:
        return ADMIT, [f"overall score {overall:.2f} is at least {admit_at:g}"]
    waiting = (
        ["mandatory indicator not assessed: " + ", ".join(mandatory_not_assessed)]
        if mandatory_not_assessed
        else []
    )
    if overall >= conditions_at:
        return ADMIT_WITH_CONDITIONS, [
            f"overall score {overall:.2f} is at least {conditions_at:g}",
            *waiting,
        ]
    return REJECT, [f"overall score {overall:.2f} is below {conditions_at:g}", *waiting]


def _group_status(score, parts):
    """A dimension's or layer's status: scored, not assessed, inconclusive (nothing scored
    and something inconclusive), or not applicable at all."""
    if score is not None:
        return "scored"
    if all(part["status"] == NOT_APPLICABLE for part in parts):
        return NOT_APPLICABLE
    if any(part["status"] == INCONCLUSIVE for part in parts):
        return INCONCLUSIVE
    return NOT_ASSESSED


def evaluate(
    tree: dict,
    inputs: dict,
    *,
    category: str | None,
    level: int | None,
    inconclusive: dict | None = None,
) -> dict:
    """Score the whole tree; returns the results (JSON-ready) described in the module doc."""
    inconclusive = inconclusive or {}
    not_assessed, mandatory_failed, mandatory_not_assessed = [], [], []
    undecided, mandatory_inconclusive = [], []
    counts = {PASSED: 0, FAILED: 0, INCONCLUSIVE: 0, NOT_ASSESSED: 0, NOT_APPLICABLE: 0}
    layers_out, layer_parts = [], []
    for layer in tree.get("layers", []):
        dims_out, dim_parts = [], []
        for dim in layer.get("dimensions", []):
            inds_out, ind_parts = [], []
            for ind in dim.get("indicators", []):
                path = f"{layer['code']}.{dim['code']}.{ind['code']}"
                key = ind.get("source_key", "")
                value = inputs.get(key)
                applicable = applies(ind, category, level)
                if applicable and inconclusive.get(key):
                    outcome = Scored(None, INCONCLUSIVE, str(inconclusive[key]))
                    ind_parts.append((None, ind.get("weight", 1)))
                elif applicable:
                    outcome = score_rule(ind.get("rule") or {}, value)
                    ind_parts.append((outcome.score, ind.get("weight", 1)))
                else:
                    outcome = Scored(None, NOT_APPLICABLE, "does not apply to this case")
                counts[outcome.status] += 1
                if outcome.status == NOT_ASSESSED:
                    not_assessed.append(
                        {
                            "path": path,
                            "name": ind.get("name", ""),
                            "source_key": key,
                            "mandatory": bool(ind.get("mandatory")),
                            "reason": outcome.note,
                        }
                    )
                if outcome.status == INCONCLUSIVE:
                    undecided.append(
                        {
                            "path": path,
                            "name": ind.get("name", ""),
                            "source_key": key,
                            "mandatory": bool(ind.get("mandatory")),
                            "reason": outcome.note,
                        }
                    )
                if applicable and ind.get("mandatory"):
                    if outcome.status == FAILED:
                        mandatory_failed.append(path)
                    elif outcome.status == NOT_ASSESSED:
                        mandatory_not_assessed.append(path)
                    elif outcome.status == INCONCLUSIVE:
                        mandatory_inconclusive.append((ind.get("name") or path, outcome.note))
                inds_out.append(
                    {
                        "code": ind["code"],
                        "path": path,
                        "name": ind.get("name", ""),
                        "weight": float(ind.get("weight", 1)),
                        "source_kind": ind.get("source_kind", ""),
                        "source_key": key,
                        "rule": ind.get("rule") or {},
                        "mandatory": bool(ind.get("mandatory")),
                        "pfmi_principle": ind.get("pfmi_principle", ""),
                        "applicable": applicable,
                        "value": value if applicable else None,
                        "score": outcome.score,
                        "status": outcome.status,
                        "note": outcome.note,
                    }
                )
            dim_score = weighted_mean(ind_parts)
            dim_parts.append((dim_score, dim.get("weight", 1)))
            dims_out.append(
                {
                    "code": dim["code"],
                    "name": dim.get("name", ""),
                    "weight": float(dim.get("weight", 1)),
                    "score": dim_score,
                    "status": _group_status(dim_score, inds_out),
                    "indicators": inds_out,
                }
            )
        layer_score = weighted_mean(dim_parts)
        layer_parts.append((layer_score, layer.get("weight", 1)))
        layers_out.append(
            {
                "code": layer["code"],
                "name": layer.get("name", ""),
                "weight": float(layer.get("weight", 1)),
                "score": layer_score,
                "status": _group_status(layer_score, dims_out),
                "dimensions": dims_out,
            }
        )
    overall = weighted_mean(layer_parts)
    admit_at = float(tree.get("admit_threshold", DEFAULT_ADMIT_THRESHOLD))
    conditions_at = float(tree.get("conditions_threshold", DEFAULT_CONDITIONS_THRESHOLD))
    recommendation, reasons = recommend(
        overall,
        mandatory_failed,
        mandatory_not_assessed,
        admit_at,
        conditions_at,
        mandatory_inconclusive,
    )
    return {
        "layers": layers_out,
        "overall": overall,
        "recommendation": recommendation,
        "reasons": reasons,
        "thresholds": {"admit": admit_at, "admit_with_conditions": conditions_at},
        "counts": counts,
        "not_assessed": not_assessed,
        "mandatory_failed": mandatory_failed,
        "mandatory_not_assessed": mandatory_not_assessed,
        "inconclusive": undecided,
        "mandatory_inconclusive": [item["path"] for item in undecided if item["mandatory"]],
        "blockers": [
            blocker_text(item["name"] or item["path"], item["reason"])
            for item in undecided
            if item["mandatory"]
        ],
    }


def needed_keys(tree: dict) -> set[str]:
    """Every source key the tree reads."""
    return {
        ind.get("source_key", "")
        for layer in tree.get("layers", [])
        for dim in layer.get("dimensions", [])
        for ind in dim.get("indicators", [])
    }


def dig(data, path: str):
    """``data["a"]["b"]`` for ``path`` "a.b"; None when any step is missing."""
    for part in path.split("."):
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data
