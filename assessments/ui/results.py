"""What the run page shows of each suite's result: checks with compact evidence, metrics
as key/value rows, and the SVG charts."""

import json

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


def _verdict(passed):
    return {True: "passed", False: "failed", None: "not judged"}[passed]


def suite_view(suite_run):
    result = suite_run.result or {}
    checks = [
        {
            "name": c.get("name", ""),
            "description": c.get("description", ""),
            "passed": c.get("passed"),
            "verdict": _verdict(c.get("passed")),
            "evidence": _rows(c.get("evidence")),
        }
        for c in result.get("checks", [])
        if isinstance(c, dict)
    ]
    return {
        "row": suite_run,
        "label": SUITE_LABELS.get(suite_run.suite, suite_run.suite),
        "verdict": _verdict(suite_run.passed),
        "checks": checks,
        "metrics": _rows(result.get("metrics")),
        "charts": charts_for(suite_run.suite, result),
    }


def run_context(run):
    suite_runs = sorted(run.suite_runs.all(), key=lambda s: _order(run, s.suite))
    return {"suite_results": [suite_view(s) for s in suite_runs], "verdict": _verdict(run.passed)}


def _order(run, suite):
    return run.suites.index(suite) if suite in run.suites else len(run.suites)
