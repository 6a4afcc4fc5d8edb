"""What the run page shows of each suite's result: checks with their outcome, message and
compact evidence, metrics as key/value rows, and the SVG charts."""

import json

from .. import outcomes
from ..charts import charts_for
from ..plans import SUITE_LABELS

VALUE_LIMIT = 240
LIST_LIMIT = 8


def _compact(value):
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, int | float):
        text = f"{value:g}" if isinstance(value, float) else str(value)
    elif isinstance(value, list | tuple):
        text = _compact_list(value)
    else:
        text = json.dumps(value, separators=(", ", ": "), default=str)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def _compact_list(values):
    """A short list of plain values spelled out; a long one or one of records counted."""
    plain = all(isinstance(v, str | int | float | bool) or v is None for v in values)
    if plain and len(values) <= LIST_LIMIT:
        return ", ".join(_compact(v) for v in values) or "none"
    kind = "values" if plain else "records"
    return f"{len(values)} {kind}"


def _rows(mapping, prefix=""):
    """Key/value rows of a mapping, one level of nesting spelled out as ``a.b``."""
    rows = []
    for key, value in (mapping or {}).items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and not prefix and len(value) <= 12:
            rows.extend(_rows(value, prefix=f"{name}."))
        else:
            rows.append((name, _compact(value)))
    return rows


def _verdict(outcome):
    """The outcome in words ("not judged"), as the pages and the report print it."""
    return outcomes.LABELS.get(outcome, "").lower()


def check_view(check):
    """One stored check for display; an old check without an outcome reads from passed."""
    outcome = outcomes.check_outcome(check)
    return {
        "name": check.get("name", ""),
        "description": check.get("description", ""),
        "passed": outcomes.passed_of(outcome),
        "outcome": outcome,
        "verdict": _verdict(outcome),
        "message": outcomes.check_message(check),
        "instrument": outcomes.is_instrument(check),
        "evidence": _rows(check.get("evidence")),
    }


def suite_view(suite_run):
    result = suite_run.result or {}
    checks = [check_view(c) for c in result.get("checks", []) if isinstance(c, dict)]
    outcome = suite_run.current_outcome
    return {
        "row": suite_run,
        "label": SUITE_LABELS.get(suite_run.suite, suite_run.suite),
        "outcome": outcome,
        "verdict": _verdict(outcome),
        "invalid_reason": suite_run.current_invalid_reason,
        "checks": checks,
        "metrics": _rows(result.get("metrics")),
        "charts": charts_for(suite_run.suite, result),
    }


def run_context(run):
    suite_runs = sorted(run.suite_runs.all(), key=lambda s: _order(run, s.suite))
    outcome = run.current_outcome
    return {
        "suite_results": [suite_view(s) for s in suite_runs],
        "outcome": outcome,
        "verdict": _verdict(outcome),
        "invalid_reason": run.current_invalid_reason,
    }


def _order(run, suite):
    return run.suites.index(suite) if suite in run.suites else len(run.suites)
