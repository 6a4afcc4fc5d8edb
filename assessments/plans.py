"""The test plan: which engine suites a case's run starts with, and their parameters.

The defaults follow the case's technical target level and the project's category:

- L1 (the underlying protocol): ``block``, ``crypto``, ``consensus``;
- L2 adds the application suite of the category: ``clearing`` for clearing and
  settlement, ``payment`` for everything else;
- L3 adds ``monitoring``.

The default parameters are deliberately small: a run against one local reference node
finishes in well under a minute. A regulator edits them on the start form; whatever is
given is checked against the engine's parameter dataclasses before a run is queued.
"""

import copy
import json

from django.core.exceptions import ValidationError

from applications.models import Category, TechLevel

from .engine import InvalidParameters, bounded
from .engine.results import parse_parameters
from .engine.suites import PARAMETERS, SUITES

# The order suites run in, whatever order they were chosen in.
SUITE_ORDER = ["block", "crypto", "consensus", "payment", "clearing", "monitoring", "ledger"]
assert set(SUITE_ORDER) == set(SUITES)

SUITE_LABELS = {
    "block": "Block structure (L1)",
    "crypto": "Signatures and keys (L1)",
    "consensus": "Consensus across nodes (L1)",
    "payment": "Payment latency, double spend, rollback (L2)",
    "clearing": "Clearing throughput (L2)",
    "monitoring": "Runtime monitoring probe (L3)",
    "ledger": "Ledger consistency: double spend, nonces, balances, value (L3)",
    "consensus_trace": "Uploaded consensus trace (L3)",
}

DEFAULT_PARAMETERS = {
    "block": {"blocks": 20, "observe_seconds": 3.0},
    "crypto": {"blocks": 50, "max_transactions": 200},
    "consensus": {"duration_s": 5.0, "compare_blocks": 10},
    # 400 transfers: enough for a p99 with a finite 95 % interval (368); 50 in flight at
    # a time, so a run on 1 s blocks takes about 10 rounds of a block or two each.
    "payment": {"accounts": 50, "transfers": 400, "confirm_timeout_s": 15.0},
    "clearing": {"rates": [5.0, 10.0], "step_seconds": 3.0, "confirm_timeout_s": 10.0},
    "monitoring": {},
    "ledger": {"blocks": 50},
}


def default_suites(application):
    """The suites a run of this case starts with, in running order."""
    level = max(application.target_level, TechLevel.L1)
    suites = ["block", "crypto", "consensus"]
    if level >= TechLevel.L2:
        category = application.project.category
        suites.append("clearing" if category == Category.CLEARING else "payment")
    if level >= TechLevel.L3:
        suites.append("monitoring")
    return suites


def default_parameters(suites=None):
    """The plan's parameters for ``suites`` (every suite when None), as a fresh dict."""
    names = SUITE_ORDER if suites is None else ordered(suites)
    return {name: copy.deepcopy(DEFAULT_PARAMETERS[name]) for name in names}


def default_plan(application):
    suites = default_suites(application)
    return {"suites": suites, "parameters": default_parameters(suites)}


def ordered(suites):
    return [name for name in SUITE_ORDER if name in set(suites)]


PARAMETERS_MAX_CHARS = 100_000
"""Longest parameters box accepted (every suite's default parameters take under 1,000)."""


def parse_json(text):
    """The parameters box: a JSON object, or empty for the plan's defaults."""
    if not text or not text.strip():
        return {}
    try:
        value = bounded.loads(text, max_bytes=PARAMETERS_MAX_CHARS)
    except bounded.BoundExceeded as exc:
        raise ValidationError(f"The parameters are refused: {exc}.") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"The parameters are not valid JSON: {exc.msg} (line {exc.lineno})."
        ) from None
    return value


def clean_plan(suites, parameters):
    """Check the chosen suites and parameters; return (suites in order, parameters).

    ``parameters`` maps a suite name to its parameters; a suite without an entry gets the
    plan's defaults, and given keys override them. An unknown suite, a parameter the suite
    does not know or a value of the wrong type raises ``ValidationError`` naming it, with
    the field it belongs to (``suites`` or ``parameters``).
    """
    if isinstance(suites, str) or not isinstance(suites, list | tuple) or not suites:
        raise ValidationError({"suites": "Choose at least one suite."})
    unknown = sorted({str(s) for s in suites} - set(SUITES))
    if unknown:
        raise ValidationError(
            {"suites": f"Unknown suite {', '.join(unknown)}; known: {', '.join(SUITE_ORDER)}."}
        )
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": "The parameters must be an object keyed by suite."})
    extra = sorted(set(parameters) - set(SUITES))
    if extra:
        raise ValidationError(
            {"parameters": f"Parameters for unknown suite {', '.join(map(str, extra))}."}
        )
    chosen = ordered(suites)
    cleaned, errors = {}, []
    for name in chosen:
        given = parameters.get(name)
        if given is None:
            given = {}
        if not isinstance(given, dict):
            errors.append(f"{name}: the parameters must be an object.")
            continue
        merged = {**DEFAULT_PARAMETERS[name], **given}
        try:
            parse_parameters(PARAMETERS[name], merged)
        except InvalidParameters as exc:
            errors.append(f"{name}: {exc}")
            continue
        cleaned[name] = merged
    if errors:
        raise ValidationError({"parameters": errors})
    return chosen, cleaned
