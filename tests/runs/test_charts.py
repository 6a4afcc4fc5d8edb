"""Charts are SVG drawn on the server: well-formed, escaped, and absent without data."""

import xml.etree.ElementTree as ET

from assessments import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    return ET.fromstring(str(svg))


def test_a_bar_chart_draws_one_bar_per_value():
    svg = charts.bar_chart("Latency", [("p50", 0.1), ("p99", 0.5), ("max", None)])
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}rect")) == 2
    assert "<script" not in svg


def test_a_line_chart_draws_one_line_per_series():
    svg = charts.line_chart("Throughput", {"accepted": [(5, 5), (10, 9)], "confirmed": [(5, 5)]})
    root = parse(svg)
    assert len(root.findall(f"{SVG}polyline")) == 2


def test_a_histogram_counts_every_value():
    svg = charts.histogram("Intervals", [1, 1, 1, 2, 3, 3], bins=3)
    counts = [r.find(f"{SVG}title").text for r in parse(svg).findall(f"{SVG}rect")]
    assert [c.rsplit(": ", 1)[1] for c in counts] == ["3", "1", "2"]
    assert charts.histogram("One value", [2, 2]) is not None


def test_text_from_a_result_is_escaped():
    svg = charts.line_chart("Heads", {"<script>alert(1)</script>": [(0, 1)], "b": [(1, 2)]})
    assert "<script>" not in svg
    parse(svg)


def test_nothing_is_drawn_without_data():
    assert charts.bar_chart("Empty", []) is None
    assert charts.line_chart("Empty", {"a": []}) is None
    assert charts.histogram("Empty", []) is None
    assert charts.charts_for("block", {"charts": {}}) == []
    assert charts.charts_for("monitoring", {"charts": {"x": [1]}}) == []


def test_each_suite_gets_its_charts_from_its_own_series():
    block = {"charts": {"block_interval_s": [[1, 1.0], [2, 1.0], [3, 2.0]]}}
    assert [c.title for c in charts.charts_for("block", block)] == ["Block intervals"]
    payment = {"metrics": {"receipt_latency_s": {"count": 3, "p50": 0.1, "p99": 0.2, "max": 0.3}}}
    assert [c.title for c in charts.charts_for("payment", payment)] == [
        "Submit-to-receipt latency percentiles"
    ]
    clearing = {
        "charts": {
            "rates": [[5, 5.0, 5.0, 4.9], [10, 10.0, 9.5, 9.0]],
            "latency_s": [[5, 0.1, 0.3, 0.4], [10, 0.2, 0.6, 0.9]],
        }
    }
    titles = [c.title for c in charts.charts_for("clearing", clearing)]
    assert titles == ["Throughput against offered rate", "Confirmation latency by step"]
    consensus = {"charts": {"heads": {"http://a": [[0, 1], [1, 2]]}, "height_lag": [[0, 0]]}}
    assert len(charts.charts_for("consensus", consensus)) == 2
