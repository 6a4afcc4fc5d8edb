"""Charts of test results as server-side SVG: pure Python, no JavaScript, so the same
markup works in a page and in a PDF report.

``charts_for(suite, result)`` turns the series a suite put in ``result["charts"]`` (and a
few of its metrics) into a list of ``Chart(title, svg)``; the three drawing functions
(``bar_chart``, ``line_chart``, ``histogram``) take plain numbers.
"""

import html
import math
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 30, 46
PALETTE = ["#1f5fa8", "#c8502a", "#2e8b57", "#8a4fb5", "#b8860b", "#4a6670"]


@dataclass
class Chart:
    title: str
    svg: str


def _fmt(value):
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.0f}" if value == int(value) else f"{value:.1f}"
    if magnitude >= 0.01:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.2g}"


def _ticks(low, high, count=5):
    """Round tick values covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    step = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= step * multiple:
            step *= multiple
            break
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def _frame(title, x_label, y_label, body, legend=()):
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" class="chart" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        *body,
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>',
    ]
    for i, (name, colour) in enumerate(legend):
        x = WIDTH - RIGHT - 150
        y = TOP + 4 + i * 14
        parts.append(f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{y + 1}">{escape(_short(name))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _short(text, limit=24):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _y_axis(ticks, y_of):
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e2e2e2"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    out.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#555"/>'
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{HEIGHT - BOTTOM}" stroke="#555"/>'
    )
    return out


def _scale(low, high, out_low, out_high):
    span = (high - low) or 1

    def scale(value):
        return out_low + (value - low) / span * (out_high - out_low)

    return scale


def bar_chart(title, bars, *, x_label="", y_label=""):
    """Bars of ``[(label, value)]``; a None value is left out."""
    bars = [(str(label), float(v)) for label, v in bars if v is not None]
    if not bars:
        return None
    ticks = _ticks(0, max(v for _, v in bars) or 1)
    y_of = _scale(0, ticks[-1], HEIGHT - BOTTOM, TOP)
    body = _y_axis(ticks, y_of)
    slot = (WIDTH - LEFT - RIGHT) / len(bars)
    for i, (label, value) in enumerate(bars):
        x = LEFT + i * slot + slot * 0.15
        y = y_of(value)
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{HEIGHT - BOTTOM - y:.1f}" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {_fmt(value)}</title></rect>"
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">'
            f"{_fmt(value)}</text>"
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 14}" '
            f'text-anchor="middle">{escape(_short(label, 12))}</text>'
        )
    return _frame(title, x_label, y_label, body)


def line_chart(title, series, *, x_label="", y_label="", zero_based=True):
    """Lines of ``{name: [(x, y), ...]}``, one colour each; points with a None are skipped."""
    series = {
        str(name): [(float(x), float(y)) for x, y in points if x is not None and y is not None]
        for name, points in series.items()
    }
    series = {name: points for name, points in series.items() if points}
    if not series:
        return None
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x_ticks = _ticks(min(xs), max(xs))
    y_ticks = _ticks(0 if zero_based else min(ys), max(ys) or 1)
    x_of = _scale(x_ticks[0], x_ticks[-1], LEFT, WIDTH - RIGHT)
    y_of = _scale(y_ticks[0], y_ticks[-1], HEIGHT - BOTTOM, TOP)
    body = _y_axis(y_ticks, y_of)
    for t in x_ticks:
        body.append(
            f'<text x="{x_of(t):.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">'
            f"{_fmt(t)}</text>"
        )
    legend = []
    for i, (name, points) in enumerate(series.items()):
        colour = PALETTE[i % len(PALETTE)]
        legend.append((name, colour))
        path = " ".join(f"{x_of(x):.1f},{y_of(y):.1f}" for x, y in sorted(points))
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        if len(points) <= 40:
            body.extend(
                f'<circle cx="{x_of(x):.1f}" cy="{y_of(y):.1f}" r="2.5" fill="{colour}"/>'
                for x, y in points
            )
    return _frame(title, x_label, y_label, body, legend if len(series) > 1 else ())


def histogram(title, values, *, bins=12, x_label="", y_label="count"):
    """A histogram of ``values`` in ``bins`` equal bins."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    if high == low:
        return bar_chart(title, [(_fmt(low), len(values))], x_label=x_label, y_label=y_label)
    bins = max(1, min(bins, len(set(values))))
    width = (high - low) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / width))] += 1
    labels = [f"{_fmt(low + i * width)}–{_fmt(low + (i + 1) * width)}" for i in range(bins)]
    return bar_chart(
        title, list(zip(labels, counts, strict=True)), x_label=x_label, y_label=y_label
    )


def _pairs(points):
    return [(p[0], p[1]) for p in points or [] if isinstance(p, list | tuple) and len(p) >= 2]


def _block(result):
    charts = result.get("charts", {})
    intervals = [d for _, d in _pairs(charts.get("block_interval_s"))]
    yield histogram(
        "Block intervals", intervals, x_label="seconds between blocks", y_label="blocks"
    )
    yield line_chart(
        "Transactions per block",
        {"transactions": _pairs(charts.get("transactions_per_block"))},
        x_label="height",
        y_label="transactions",
    )


def _percentile_bars(summary):
    summary = summary or {}
    keys = [k for k in summary if k.startswith("p")] + ["max"]
    return [(k.replace("_", "."), summary.get(k)) for k in keys if summary.get(k) is not None]


def _payment(result):
    metrics = result.get("metrics", {})
    yield bar_chart(
        "Submit-to-receipt latency percentiles",
        _percentile_bars(metrics.get("receipt_latency_s")),
        x_label="percentile",
        y_label="seconds",
    )
    yield bar_chart(
        "Submit-to-finality latency percentiles",
        _percentile_bars(metrics.get("finality_latency_s")),
        x_label="percentile",
        y_label="seconds",
    )


def _clearing(result):
    rows = [r for r in result.get("charts", {}).get("rates") or [] if len(r) >= 4]
    yield line_chart(
        "Throughput against offered rate",
        {
            "offered": [(r[1], r[1]) for r in rows],
            "accepted": [(r[1], r[2]) for r in rows],
            "confirmed": [(r[1], r[3]) for r in rows],
        },
        x_label="offered rate (tx/s)",
        y_label="tx/s",
    )
    latency = [r for r in result.get("charts", {}).get("latency_s") or [] if len(r) >= 4]
    yield line_chart(
        "Confirmation latency by step",
        {
            "p50": [(r[0], r[1]) for r in latency],
            "p99": [(r[0], r[2]) for r in latency],
            "max": [(r[0], r[3]) for r in latency],
        },
        x_label="target rate (tx/s)",
        y_label="seconds",
    )


def _crypto(result):
    yield bar_chart(
        "Transactions by type",
        _pairs(result.get("charts", {}).get("transaction_types")),
        x_label="transaction type",
        y_label="transactions",
    )


def _consensus(result):
    charts = result.get("charts", {})
    heads = charts.get("heads") or {}
    yield line_chart(
        "Head height per node",
        {node: _pairs(points) for node, points in heads.items()},
        x_label="seconds",
        y_label="height",
        zero_based=False,
    )
    yield line_chart(
        "Height lag between nodes",
        {"lag": _pairs(charts.get("height_lag"))},
        x_label="seconds",
        y_label="blocks",
    )


def _consensus_trace(result):
    charts = result.get("charts", {})
    yield line_chart(
        "Time to commit per height",
        {"time to commit": _pairs(charts.get("time_to_commit_s"))},
        x_label="height",
        y_label="seconds",
    )
    yield bar_chart(
        "Rounds needed per height",
        [
            (f"{rounds} rounds", heights)
            for rounds, heights in _pairs(charts.get("rounds_histogram"))
        ],
        x_label="rounds",
        y_label="heights",
    )


def _ledger(result):
    yield line_chart(
        "Transactions per block",
        {"transactions": _pairs(result.get("charts", {}).get("transactions_per_block"))},
        x_label="block",
        y_label="transactions",
    )


DRAWERS = {
    "consensus_trace": _consensus_trace,
    "ledger": _ledger,
    "block": _block,
    "payment": _payment,
    "clearing": _clearing,
    "crypto": _crypto,
    "consensus": _consensus,
}


def charts_for(suite, result):
    """The charts of one suite's result, leaving out those without data."""
    drawer = DRAWERS.get(suite)
    if drawer is None or not isinstance(result, dict):
        return []
    charts = []
    for svg in drawer(result):
        if svg is not None:
            title = html.unescape(svg.split("<title>", 1)[1].split("</title>", 1)[0])
            charts.append(Chart(title=title, svg=svg))
    return charts
