"""The message-sequence chart of one height of a consensus trace, as server-side SVG.

Validators are lifelines (columns, in the header's order; a commit without a validator gets
its node's lifeline). Each event is a row, in the order of its time, labelled with its
offset from the height's first event: a proposal or a vote is a dot on its sender's
lifeline with an arrow to every other lifeline (a broadcast), a nil vote a hollow dot, a
view change a triangle, and a commit a highlighted bar naming the block (red when nodes
committed different blocks). A validator's second, conflicting message in one step is
drawn in red.
"""

from collections import Counter

from django.utils.html import escape
from django.utils.safestring import mark_safe

COLOURS = {
    "proposal": "#1f5fa8",
    "prevote": "#8a4fb5",
    "precommit": "#b8860b",
    "view_change": "#4a6670",
    "commit": "#2e8b57",
}
BAD = "#c0392b"
ROW = 18
TOP = 64
LEFT = 124
RIGHT = 230
COLUMN = 96
MAX_LIFELINES = 24
MAX_ROWS = 400


def _short(value, keep=6):
    text = str(value)
    if len(text) <= 2 * keep + 1:
        return text
    return f"{text[:keep]}…{text[-4:]}"


def _ms(seconds):
    return f"+{seconds * 1000:,.0f} ms"


def sequence_chart(validators, events, height):
    """SVG markup for the events of ``height`` (dicts from ``consensus_trace.events_at``)."""
    if not events:
        return None
    by_key = {v.lower(): v for v in validators}
    lanes = list(validators[:MAX_LIFELINES])

    def lane_of(event):
        who = event.get("validator")
        if who is not None and who.lower() in by_key:
            return by_key[who.lower()]
        if event["kind"] == "commit" or who is None:
            return f"node {event['node']}"
        return who

    for event in events:
        lane = lane_of(event)
        if lane not in lanes and len(lanes) < MAX_LIFELINES + 4:
            lanes.append(lane)
    x_of = {lane: LEFT + i * COLUMN for i, lane in enumerate(lanes)}
    rows = sorted(events, key=lambda e: (e["time"], e["line"]))[:MAX_ROWS]
    start = rows[0]["time"]
    width = LEFT + max(1, len(lanes) - 1) * COLUMN + RIGHT
    height_px = TOP + len(rows) * ROW + 90

    # Conflicting messages (one validator, one step and round, two blocks) and forks.
    seen = {}
    conflicting = set()
    for e in rows:
        if e["kind"] in ("proposal", "prevote", "precommit"):
            key = (lane_of(e), e["kind"], e["round"])
            block = (e.get("block") or "nil").lower()
            if key in seen and seen[key] != block:
                conflicting.add(id(e))
            seen.setdefault(key, block)
    committed = Counter((e.get("block") or "").lower() for e in rows if e["kind"] == "commit")
    fork = len(committed) > 1

    title = f"Messages at height {height}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height_px}" '
        f'width="{width}" height="{height_px}" role="img" class="chart sequence" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        '<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L6,3 L0,6 z" '
        'fill="context-stroke"/></marker></defs>',
    ]
    bottom = TOP + len(rows) * ROW
    for lane, x in x_of.items():
        parts.append(
            f'<text x="{x}" y="{TOP - 22}" text-anchor="middle" font-weight="bold">'
            f"{escape(_short(lane))}<title>{escape(lane)}</title></text>"
        )
        parts.append(
            f'<line x1="{x}" y1="{TOP - 12}" x2="{x}" y2="{bottom}" stroke="#999" '
            f'stroke-dasharray="3 3"/>'
        )
    lefts, rights = min(x_of.values()), max(x_of.values())
    for i, e in enumerate(rows):
        y = TOP + i * ROW + ROW / 2
        lane = lane_of(e)
        x = x_of.get(lane)
        kind = e["kind"]
        colour = COLOURS.get(kind, "#555")
        bad = id(e) in conflicting or (kind == "commit" and fork)
        if bad:
            colour = BAD
        parts.append(
            f'<text x="{LEFT - 40}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_ms(e['time'] - start))}</text>"
        )
        block = e.get("block")
        label = f"{kind} r{e['round']}"
        if kind == "view_change":
            label = f"view change → r{e['round']}"
        elif block is None and kind in ("prevote", "precommit"):
            label += " nil"
        elif block:
            label += f" {_short(block)}"
        info = escape(
            f"line {e['line']}: {e['type']} by {e.get('validator') or e['node']} "
            f"(node {e['node']}), round {e['round']}, block {block}"
        )
        if x is None:
            continue
        if kind == "commit":
            parts.append(
                f'<rect x="{x - 30}" y="{y - 7:.1f}" width="60" height="14" rx="3" '
                f'fill="{colour}" fill-opacity="0.85"><title>{info}</title></rect>'
                f'<text x="{x}" y="{y + 4:.1f}" text-anchor="middle" fill="#fff" '
                f'font-size="10">commit</text>'
            )
        elif kind == "view_change":
            parts.append(
                f'<path d="M{x - 6},{y + 5:.1f} L{x + 6},{y + 5:.1f} L{x},{y - 6:.1f} z" '
                f'fill="{colour}"><title>{info}</title></path>'
            )
        else:
            width_line = "1.6" if kind == "proposal" else "1"
            for other, ox in x_of.items():
                if other == lane or other.startswith("node "):
                    continue
                end = ox - 4 if ox > x else ox + 4
                parts.append(
                    f'<line x1="{x}" y1="{y:.1f}" x2="{end}" y2="{y:.1f}" stroke="{colour}" '
                    f'stroke-width="{width_line}" stroke-opacity="0.7" marker-end="url(#arrow)"/>'
                )
            nil = block is None
            parts.append(
                f'<circle cx="{x}" cy="{y:.1f}" r="4.5" fill="{"#fff" if nil else colour}" '
                f'stroke="{colour}" stroke-width="1.6"><title>{info}</title></circle>'
            )
        parts.append(
            f'<text x="{rights + 40}" y="{y + 4:.1f}" fill="{colour}">{escape(label)}</text>'
        )
    legend_y = bottom + 22
    x = lefts
    for kind, colour in [*COLOURS.items(), ("conflict or fork", BAD)]:
        if x + 100 > width:
            x, legend_y = lefts, legend_y + 16
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{legend_y}">{escape(kind.replace("_", " "))}</text>'
        )
        x += 104
    if len(events) > len(rows):
        parts.append(
            f'<text x="{lefts}" y="{legend_y + 20}" fill="{BAD}">'
            f"{len(events) - len(rows)} later events not drawn</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
