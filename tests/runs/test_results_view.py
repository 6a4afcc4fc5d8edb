"""How the results page and the report print a suite's metrics."""

from assessments.ui.results import _rows


def test_plain_values_nested_mappings_and_lists_read_as_text():
    rows = dict(
        _rows(
            {
                "rate": 12.5,
                "ok": True,
                "latency_s": {"p50": 0.25, "p99": 1.0},
                "heights": [1, 2, 3],
                "empty": [],
                "samples": [{"at": 1, "up": True}, {"at": 2, "up": False}],
                "long": list(range(50)),
            }
        )
    )
    assert rows["rate"] == "12.5"
    assert rows["ok"] == "true"
    assert rows["latency_s.p99"] == "1"
    assert rows["heights"] == "1, 2, 3"
    assert rows["empty"] == "none"
    # Records and long series are counted, not dumped as raw JSON.
    assert rows["samples"] == "2 records"
    assert rows["long"] == "50 values"
