"""The canonical JSON: one byte sequence, and so one hash, for one payload."""

import datetime
import decimal

from assessments.evaluations import canonical


def test_it_sorts_keys_and_drops_whitespace():
    assert canonical.dumps({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'


def test_it_keeps_text_as_utf8_not_escapes():
    text = canonical.dumps({"firm": "Zürich Ledger 株式会社"})
    assert text == '{"firm":"Zürich Ledger 株式会社"}'
    assert canonical.sha256(text) == canonical.sha256(text.encode("utf-8").decode("utf-8"))


def test_floats_are_rounded_so_they_hash_the_same():
    assert canonical.dumps({"x": 0.1 + 0.2}) == canonical.dumps({"x": 0.3})
    assert canonical.dumps({"x": decimal.Decimal("87.50")}) == canonical.dumps({"x": 87.5})
    assert canonical.dumps({"x": 100.0}) == '{"x":100}'
    assert canonical.dumps({"x": float("nan")}) == '{"x":null}'


def test_datetimes_are_iso_8601_utc():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2026, 11, 25, 14, 0, 0, 5, tzinfo=plus_two)
    assert canonical.dumps({"at": moment}) == '{"at":"2026-11-25T12:00:00.000005Z"}'


def test_a_changed_value_changes_the_hash():
    one = canonical.sha256(canonical.dumps({"score": 80.0}))
    assert one == canonical.sha256(canonical.dumps({"score": 80}))
    assert one != canonical.sha256(canonical.dumps({"score": 80.000001}))
