"""What the report prints: the template context of one report, and its HTML.

Everything comes from the issued evaluation (its frozen results and the test runs it used)
and from the case as it stands (tier statuses, the decision and its conditions). Charts
are SVG built here and in ``assessments.charts``, inline in the HTML: WeasyPrint runs no
JavaScript, and the report's own fonts are named so every machine draws the same glyphs.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from applications.models import Tier
from assessments import outcomes
from assessments.ui.results import suite_view

REPORT_SANS = "Report Sans"
STATUS_LABELS = {
    "passed": "Pass",
    "failed": "Fail",
    "inconclusive": "Inconclusive",
    "not_assessed": "Not assessed",
    "not_applicable": "Not applicable",
}
RECOMMENDATION_LABELS = {
    "admit": "Admit",
    "admit_with_conditions": "Admit with conditions",
    "reject": "Reject",
    "retest": "Re-test before admission",
}
RULE_OPERATORS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">"}
VALUE_LIMIT = 80


def _with_report_font(svg):
    """The chart drawn with the report's shipped sans font instead of a system one."""
    return mark_safe(  # noqa: S308 - the SVG is built from escaped text only
        str(svg).replace('font-family="sans-serif"', f'font-family="{REPORT_SANS}"')
    )


def _score(value):
    return None if value is None else round(float(value), 1)


def rule_text(rule):
    """A scoring rule in words, e.g. "≤ 1" or "linear 0 → 100 (lower is better)"."""
    kind = (rule or {}).get("kind", "pass_fail")
    if kind == "threshold":
        return (
            f"{RULE_OPERATORS.get(rule.get('operator'), rule.get('operator'))} {rule.get('value')}"
        )
    if kind == "linear":
        direction = "" if rule.get("higher_is_better", True) else " (lower is better)"
        return f"linear {rule.get('lower')} → {rule.get('upper')}{direction}"
    return "pass / fail"


def _value_text(value):
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 1] + "…"


def indicator_tree(results):
    """Layers, dimensions and indicators with display fields added."""
    layers = []
    for layer in (results or {}).get("layers", []):
        dimensions = []
        for dim in layer.get("dimensions", []):
            indicators = [
                {
                    **ind,
                    "score_display": _score(ind.get("score")),
                    "status_label": STATUS_LABELS.get(ind.get("status"), ind.get("status")),
                    "rule_text": rule_text(ind.get("rule")),
                    "value_text": _value_text(ind.get("value")),
                }
                for ind in dim.get("indicators", [])
            ]
            dimensions.append(
                {**dim, "score_display": _score(dim.get("score")), "items": indicators}
            )
        layers.append({**layer, "score_display": _score(layer.get("score")), "items": dimensions})
    return layers


def dimension_chart(layers, *, width=640, row=22):
    """Horizontal bars of every dimension's score (0-100), grouped by layer."""
    rows = [
        (f"{layer['name']} · {dim['name']}", dim.get("score"))
        for layer in layers
        for dim in layer["items"]
    ]
    if not rows:
        return None
    label_w, right, top = 250, 40, 26
    plot_w = width - label_w - right
    height = top + row * len(rows) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="chart" '
        f'font-family="{REPORT_SANS}" font-size="10">',
        "<title>Scores by dimension</title>",
        '<text x="0" y="14" font-size="12" font-weight="bold">Scores by dimension</text>',
    ]
    for tick in range(0, 101, 20):
        x = label_w + plot_w * tick / 100
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" '
            'stroke="#d8dde3" stroke-width="0.6"/>'
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" fill="#555">{tick}</text>'
        )
    for i, (label, score) in enumerate(rows):
        y = top + i * row
        short = label if len(label) <= 44 else label[:43] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row * 0.62:.1f}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        if score is None:
            parts.append(
                f'<text x="{label_w + 4}" y="{y + row * 0.62:.1f}" fill="#8a6d00" '
                'font-style="italic">not assessed</text>'
            )
            continue
        bar = plot_w * max(0.0, min(100.0, float(score))) / 100
        colour = "#2e7d4f" if score >= 80 else "#b8860b" if score >= 60 else "#b03a2e"
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + bar + 4:.1f}" y="{y + row * 0.62:.1f}">{float(score):.1f}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def evidence(evaluation):
    """Per test run, per suite: outcome (and why a run or suite is invalid), metrics,
    checks with their outcome and message, and charts."""
    runs = []
    for run in evaluation.test_runs.order_by("created_at", "pk").prefetch_related("suite_runs"):
        suites = []
        for suite_run in run.suite_runs.all():
            view = suite_view(suite_run)
            view["charts"] = [
                {"title": chart.title, "svg": _with_report_font(chart.svg)}
                for chart in view["charts"]
            ]
            suites.append(view)
        outcome = run.current_outcome
        runs.append(
            {
                "run": run,
                "suites": suites,
                "outcome": outcome,
                "verdict": outcomes.LABELS.get(outcome, "").lower(),
                "invalid_reason": run.current_invalid_reason,
            }
        )
    return runs


def _tiers(app):
    by_tier = {t.tier: t for t in app.tier_statuses.select_related("set_by")}
    return [{"label": label, "row": by_tier.get(value)} for value, label in Tier.choices]


def _decision(app):
    decision = getattr(app, "decision", None)
    if decision is None:
        return None, []
    return decision, list(decision.conditions.order_by("due_date", "pk"))


def context(report, *, signature="", fingerprint="", public_key_pem=""):
    """The template context of ``report``."""
    evaluation = report.evaluation
    app = evaluation.application
    results = evaluation.results or {}
    layers = indicator_tree(results)
    decision, conditions = _decision(app)
    recommendation = results.get("recommendation") or evaluation.recommendation
    return {
        "report": report,
        "evaluation": evaluation,
        "app": app,
        "portal_name": getattr(settings, "PORTAL_NAME", "Sandbox Portal"),
        "site_url": settings.SITE_URL,
        "results": results,
        "layers": layers,
        "overall": _score(evaluation.overall_score),
        "recommendation": RECOMMENDATION_LABELS.get(recommendation, recommendation),
        "recommendation_code": recommendation,
        "reasons": results.get("reasons", []),
        "counts": results.get("counts", {}),
        "thresholds": results.get("thresholds", {}),
        "not_assessed": results.get("not_assessed", []),
        "inconclusive": results.get("inconclusive", []),
        "blockers": evaluation.admission_blockers,
        "dimension_chart": dimension_chart(layers),
        "tiers": _tiers(app),
        "decision": decision,
        "conditions": conditions,
        "runs": evidence(evaluation),
        "json_sha256": evaluation.sha256,
        "signature": signature,
        "fingerprint": fingerprint,
        "public_key_pem": public_key_pem,
    }


def html(report, **signing):
    return render_to_string("reports/report.html", context(report, **signing))
