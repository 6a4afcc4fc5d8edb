"""The scoring rules, aggregation, "not assessed" and the recommendation (pure Python)."""

import pytest

from assessments.evaluations import scoring


def indicator(code, key, rule, weight=1, mandatory=False, categories=(), levels=()):
    return {
        "code": code,
        "name": code.replace("_", " "),
        "weight": weight,
        "source_kind": "engine_metric",
        "source_key": key,
        "rule": rule,
        "mandatory": mandatory,
        "categories": list(categories),
        "levels": list(levels),
        "pfmi_principle": "",
    }


def tree(*layers, admit=80, conditions=60):
    return {"admit_threshold": admit, "conditions_threshold": conditions, "layers": list(layers)}


def layer(code, *dimensions, weight=1):
    return {"code": code, "name": code, "weight": weight, "dimensions": list(dimensions)}


def dimension(code, *indicators, weight=1):
    return {"code": code, "name": code, "weight": weight, "indicators": list(indicators)}


PASS_FAIL = {"kind": "pass_fail"}


def test_pass_fail_scores_100_or_0():
    assert scoring.score_rule(PASS_FAIL, True) == scoring.Scored(100.0, "passed")
    assert scoring.score_rule(PASS_FAIL, False) == scoring.Scored(0.0, "failed")


def test_pass_fail_does_not_read_a_number_as_a_verdict():
    outcome = scoring.score_rule(PASS_FAIL, 1)
    assert outcome.score is None and outcome.status == "not_assessed"


@pytest.mark.parametrize(
    "operator,value,expected",
    [
        ("<=", 2.0, 100.0),
        ("<=", 2.01, 0.0),
        ("<", 2.0, 0.0),
        ("<", 1.99, 100.0),
        (">=", 0.995, 100.0),
        (">=", 0.994, 0.0),
        (">", 0.995, 0.0),
        (">", 1, 100.0),
    ],
)
def test_threshold_scores_each_operator_at_and_around_its_bound(operator, value, expected):
    rule = {"kind": "threshold", "operator": operator, "value": 2.0 if "<" in operator else 0.995}
    assert scoring.score_rule(rule, value).score == expected


@pytest.mark.parametrize(
    "value,expected",
    [(0, 0.0), (5, 0.0), (10, 50.0), (15, 100.0), (40, 100.0), (7.5, 25.0)],
)
def test_linear_interpolates_between_its_bounds_and_clamps(value, expected):
    rule = {"kind": "linear", "lower": 5, "upper": 15, "higher_is_better": True}
    assert scoring.score_rule(rule, value).score == expected


def test_linear_lower_is_better_reverses_the_scale():
    rule = {"kind": "linear", "lower": 1, "upper": 11, "higher_is_better": False}
    assert scoring.score_rule(rule, 1).score == 100.0
    assert scoring.score_rule(rule, 3.5).score == 75.0
    assert scoring.score_rule(rule, 11).score == 0.0
    assert scoring.score_rule(rule, 11).status == "failed"
    assert scoring.score_rule(rule, 0.2).score == 100.0


def test_a_missing_input_is_not_assessed_never_zero():
    for rule in (PASS_FAIL, {"kind": "threshold", "operator": "<=", "value": 1}):
        outcome = scoring.score_rule(rule, None)
        assert outcome.score is None
        assert outcome.status == "not_assessed"


def test_a_non_number_for_a_numeric_rule_is_not_assessed():
    rule = {"kind": "threshold", "operator": "<=", "value": 1}
    assert scoring.score_rule(rule, "fast").status == "not_assessed"
    assert scoring.score_rule(rule, {"p99": 1}).status == "not_assessed"
    assert scoring.score_rule(rule, True).status == "not_assessed"


def test_it_aggregates_with_weights_at_every_level():
    t = tree(
        layer(
            "protocol",
            dimension(
                "crypto",
                indicator("a", "k.a", PASS_FAIL, weight=3),
                indicator("b", "k.b", PASS_FAIL, weight=1),
            ),
            dimension("block", indicator("c", "k.c", PASS_FAIL), weight=3),
            weight=1,
        ),
        layer("physical", dimension("zone", indicator("d", "k.d", PASS_FAIL)), weight=3),
    )
    results = scoring.evaluate(
        t, {"k.a": True, "k.b": False, "k.c": True, "k.d": False}, category=None, level=1
    )
    crypto, block = results["layers"][0]["dimensions"]
    assert crypto["score"] == 75.0  # (3 * 100 + 1 * 0) / 4
    assert block["score"] == 100.0
    assert results["layers"][0]["score"] == 93.75  # (1 * 75 + 3 * 100) / 4
    assert results["layers"][1]["score"] == 0.0
    assert results["overall"] == 23.4375  # (1 * 93.75 + 3 * 0) / 4
    assert results["recommendation"] == "reject"


def test_not_assessed_is_left_out_and_the_weights_renormalised():
    t = tree(
        layer(
            "protocol",
            dimension(
                "crypto",
                indicator("a", "k.a", PASS_FAIL, weight=1),
                indicator("missing", "k.missing", PASS_FAIL, weight=9),
            ),
        ),
        layer("operations", dimension("monitoring", indicator("m", "k.m", PASS_FAIL))),
    )
    results = scoring.evaluate(t, {"k.a": True}, category=None, level=1)
    assert results["layers"][0]["dimensions"][0]["score"] == 100.0  # not (100 * 1 + 0 * 9) / 10
    assert results["layers"][1]["score"] is None  # nothing assessed: no score, not zero
    assert results["overall"] == 100.0
    assert results["counts"]["not_assessed"] == 2
    assert [n["path"] for n in results["not_assessed"]] == [
        "protocol.crypto.missing",
        "operations.monitoring.m",
    ]
    missing = results["layers"][0]["dimensions"][0]["indicators"][1]
    assert missing["score"] is None and missing["status"] == "not_assessed"


def test_a_failed_mandatory_indicator_forces_reject_even_with_a_high_overall():
    t = tree(
        layer(
            "protocol",
            dimension(
                "crypto",
                indicator("tiny", "k.tiny", PASS_FAIL, weight=0.01, mandatory=True),
                *[indicator(f"i{n}", f"k.i{n}", PASS_FAIL, weight=10) for n in range(5)],
            ),
        )
    )
    values = {f"k.i{n}": True for n in range(5)} | {"k.tiny": False}
    results = scoring.evaluate(t, values, category=None, level=1)
    assert results["overall"] > 99
    assert results["recommendation"] == "reject"
    assert results["mandatory_failed"] == ["protocol.crypto.tiny"]


def test_a_mandatory_linear_indicator_at_zero_counts_as_failed():
    rule = {"kind": "linear", "lower": 1, "upper": 10, "higher_is_better": False}
    t = tree(
        layer(
            "app",
            dimension(
                "latency",
                indicator("p99", "k.p99", rule, mandatory=True),
                indicator("ok", "k.ok", PASS_FAIL, weight=100),
            ),
        )
    )
    results = scoring.evaluate(t, {"k.p99": 12.0, "k.ok": True}, category=None, level=2)
    assert results["recommendation"] == "reject"


@pytest.mark.parametrize(
    "values,expected",
    [
        ({"k.m": True, "k.a": True, "k.b": True, "k.c": True}, "admit"),
        ({"k.m": True, "k.a": True, "k.b": True, "k.c": False}, "admit_with_conditions"),
        ({"k.m": True, "k.a": True, "k.b": False, "k.c": False}, "reject"),
        ({"k.a": True, "k.b": True, "k.c": True}, "admit_with_conditions"),
    ],
)
def test_it_recommends_by_the_thresholds_and_the_mandatory_indicators(values, expected):
    t = tree(
        layer(
            "l",
            dimension(
                "d",
                indicator("m", "k.m", PASS_FAIL, mandatory=True),
                indicator("a", "k.a", PASS_FAIL),
                indicator("b", "k.b", PASS_FAIL),
                indicator("c", "k.c", PASS_FAIL),
            ),
        )
    )
    # 4/4 = 100; 3/4 = 75 (>= 60); 2/4 = 50 (< 60); the mandatory one missing: conditions.
    assert scoring.evaluate(t, values, category=None, level=1)["recommendation"] == expected


def test_the_thresholds_come_from_the_index_model():
    t = tree(layer("l", dimension("d", indicator("a", "k.a", PASS_FAIL))), admit=101)
    results = scoring.evaluate(t, {"k.a": True}, category=None, level=1)
    assert results["recommendation"] == "admit_with_conditions"


def test_nothing_assessed_gives_no_score_and_no_admission():
    t = tree(layer("l", dimension("d", indicator("a", "k.a", PASS_FAIL))))
    results = scoring.evaluate(t, {}, category=None, level=1)
    assert results["overall"] is None
    assert results["recommendation"] == "reject"


def test_applicability_follows_the_category_and_the_target_level():
    t = tree(
        layer(
            "l",
            dimension(
                "d",
                indicator("payment_only", "k.p", PASS_FAIL, categories=["payment"]),
                indicator("l3_only", "k.m", PASS_FAIL, mandatory=True, levels=[3]),
                indicator("everyone", "k.e", PASS_FAIL),
            ),
        )
    )
    values = {"k.p": False, "k.e": True}
    clearing_l2 = scoring.evaluate(t, values, category="clearing", level=2)
    statuses = [i["status"] for i in clearing_l2["layers"][0]["dimensions"][0]["indicators"]]
    assert statuses == ["not_applicable", "not_applicable", "passed"]
    assert clearing_l2["overall"] == 100.0
    assert clearing_l2["recommendation"] == "admit"
    assert clearing_l2["not_assessed"] == []

    payment_l3 = scoring.evaluate(t, values, category="payment", level=3)
    assert payment_l3["overall"] == 50.0
    assert payment_l3["mandatory_not_assessed"] == ["l.d.l3_only"]
    assert payment_l3["recommendation"] == "reject"  # 50 < 60, nothing failed mandatory


def test_a_group_with_nothing_applicable_says_so_rather_than_not_assessed():
    t = tree(
        layer("tech", dimension("d", indicator("a", "k.a", PASS_FAIL, levels=[3]))),
        layer("inst", dimension("e", indicator("b", "k.b", PASS_FAIL))),
    )
    results = scoring.evaluate(t, {}, category=None, level=0)
    assert results["layers"][0]["status"] == "not_applicable"
    assert results["layers"][0]["dimensions"][0]["status"] == "not_applicable"
    assert results["layers"][1]["status"] == "not_assessed"
    scored = scoring.evaluate(t, {"k.b": True}, category=None, level=0)
    assert scored["layers"][1]["status"] == "scored"
