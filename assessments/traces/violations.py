"""The violations in a checked trace's result, as rows for a table: which check, where
(height or block, round), who (validators or account) and what."""

# check name -> (evidence list, where key, who key)
SOURCES = {
    "commit_agreement": ("disagreements", "height", None),
    "quorum_certificates": ("weak", "height", "validators"),
    "equivocation": ("equivocations", "height", "validators"),
    "validity": ("invalid", "height", "validators"),
    "no_double_spend": ("double_spends", "block", "account"),
    "nonces_gap_free": ("gaps", "block", "account"),
    "no_negative_balance": ("negative", "block", "account"),
    "value_conserved": ("mismatched", "block", "account"),
}
DETAIL_SKIP = {"height", "block", "round", "validators", "account", "rounds"}


def _who(item, key):
    if key is None:  # a fork: the validators behind each side
        return sorted({v for side in item.get("blocks", []) for v in side.get("validators", [])})
    value = item.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _detail(item):
    parts = []
    for key, value in item.items():
        if key in DETAIL_SKIP:
            continue
        if key == "blocks" and value and isinstance(value[0], dict):
            value = "; ".join(
                f"{side.get('block')} by {', '.join(side.get('nodes', []))}" for side in value
            )
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key.replace('_', ' ')}: {value}")
    return "; ".join(parts)


def violations(result, limit=200):
    rows = []
    for check in (result or {}).get("checks", []):
        if not isinstance(check, dict) or check.get("passed") is not False:
            continue
        name = check.get("name")
        evidence = check.get("evidence") or {}
        if name == "liveness":
            for h in evidence.get("uncommitted_heights") or []:
                rows.append(_row(name, h, None, [], "no commit at this height"))
            for item in evidence.get("slow_heights") or []:
                detail = f"{item.get('rounds')} rounds, {item.get('view_changes')} view changes"
                rows.append(_row(name, item.get("height"), None, [], detail))
            continue
        if name not in SOURCES:
            continue
        key, where, who = SOURCES[name]
        for item in evidence.get(key) or []:
            if not isinstance(item, dict):
                continue
            rnd = item.get("round", item.get("rounds"))
            rows.append(_row(name, item.get(where), rnd, _who(item, who), _detail(item)))
    return rows[:limit]


def _row(check, where, rnd, who, detail):
    if isinstance(rnd, list):
        rnd = ", ".join(str(r) for r in rnd)
    return {"check": check, "where": where, "round": rnd, "who": who, "detail": detail}


def first_height(rows):
    heights = [r["where"] for r in rows if isinstance(r["where"], int)]
    return min(heights) if heights else None
