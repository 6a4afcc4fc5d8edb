"""Bounded JSON decoding: the depth scan, the size bound, and node answers and trace lines
too deeply nested for the decoders refused as ordinary errors."""

import json
import subprocess
import sys
import time

import pytest

from assessments.engine import bounded
from assessments.engine.bounded import MAX_DEPTH, TooDeeplyNested, TooLarge
from tests.engine.conftest import REPO


def nested(depth, inner="1"):
    return "[" * depth + inner + "]" * depth


def test_the_bound_itself_passes_and_one_level_more_fails():
    assert bounded.loads(nested(MAX_DEPTH)) is not None
    with pytest.raises(TooDeeplyNested) as refused:
        bounded.loads(nested(MAX_DEPTH + 1))
    assert refused.value.position == MAX_DEPTH  # the opening bracket that crosses it
    assert f"limit of {MAX_DEPTH} levels" in str(refused.value)
    assert isinstance(refused.value, ValueError)


def test_objects_count_like_arrays_and_the_bound_is_a_parameter():
    text = '{"a":' * 6 + "1" + "}" * 6
    bounded.check_depth(text, max_depth=6)
    with pytest.raises(TooDeeplyNested) as refused:
        bounded.check_depth(text, max_depth=5)
    assert refused.value.position == text.index("{", 5 * 5)
    bounded.check_depth("[{}, [{}], {}, []]", max_depth=3)
    with pytest.raises(TooDeeplyNested):
        bounded.check_depth("[{}, [{}], {}, []]", max_depth=2)


@pytest.mark.parametrize(
    "text",
    [
        '["' + "[" * 500 + '"]',  # brackets inside a string
        '["\\"' + "{" * 500 + '"]',  # after an escaped quote, still inside the string
        '{"k\\\\": "' + "[" * 500 + '"}',  # an escaped backslash, then the string goes on
        '"' + "[" * 500,  # an unterminated string: the decoder stops there, and so does the scan
    ],
)
def test_brackets_inside_strings_do_not_count(text):
    bounded.check_depth(text, max_depth=2)


def test_an_escaped_backslash_ends_before_the_closing_quote():
    text = '["\\\\",' + nested(10) + "]"  # the string is one backslash; then real nesting
    with pytest.raises(TooDeeplyNested):
        bounded.check_depth(text, max_depth=5)
    assert json.loads(text)[0] == "\\"


def test_bytes_and_text_give_the_same_answer_and_positions_in_their_own_units():
    text = '["é", ' + nested(70) + "]"
    with pytest.raises(TooDeeplyNested) as as_text:
        bounded.check_depth(text)
    with pytest.raises(TooDeeplyNested) as as_bytes:
        bounded.check_depth(text.encode())
    assert text[as_text.value.position] == "["
    assert as_bytes.value.position == as_text.value.position + 1  # é is two bytes


def test_the_size_bound_comes_first():
    with pytest.raises(TooLarge, match="limit of 10 bytes"):
        bounded.loads(b"[1, 2, 3, 4]", max_bytes=10)
    with pytest.raises(TooLarge, match="limit of 10 characters"):
        bounded.loads("[1, 2, 3, 4]", max_bytes=10)
    assert bounded.loads(b"[1, 2, 3]", max_bytes=10) == [1, 2, 3]


def test_malformed_text_is_the_decoders_own_error():
    with pytest.raises(json.JSONDecodeError):
        bounded.loads("[1,")
    with pytest.raises(ValueError):
        bounded.loads(b"\xff")
    assert bounded.loads("[NaN]", parse_constant=lambda c: c) == ["NaN"]


def test_the_scan_is_linear_and_fast_on_a_megabyte():
    record = {"hash": "0x" + "ab" * 32, "txs": [{"to": "0x" + "cd" * 20, "s": 'a"[x]{'}] * 3}
    body = json.dumps([record] * 4000).encode()
    assert len(body) > 1_000_000
    started = time.perf_counter()
    bounded.check_depth(body)
    bounded.check_depth(b"[" * 500_000 + b"]" * 500_000, max_depth=1_000_000)
    assert time.perf_counter() - started < 1.0  # about 0.05 s on the 2-core machine


# Decoding deep input can only be proven safe in a process that may die: each check below
# runs in a child, so a crash fails the test instead of the run.
CHILD = r"""
import sys
import msgspec
from assessments.engine import bounded, jsonl, rpc
from assessments.engine.errors import NonConformingNode
from assessments.engine.sender import _answer_outcome
from assessments.engine.suites.consensus_trace import header_of
from assessments.engine.wire import PreparedRequest

assert sys.getrecursionlimit() <= 1000, sys.getrecursionlimit()
deep = b"[" * 100_000 + b"]" * 100_000

# The decoder's own limit (a caller's bound above the stack's) is the same refusal.
try:
    bounded.loads(b"[" * 5_000 + b"]" * 5_000, max_depth=10**6)
except bounded.TooDeeplyNested as exc:
    assert exc.position is None
else:
    raise AssertionError("not refused")

# A node answering with deep JSON is a non-conforming node, never a crash.
body = b'{"jsonrpc":"2.0","id":1,"result":' + deep + b"}"
request = [{"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}]
try:
    rpc._decode(body, request, False, "http://node")
except NonConformingNode:
    pass
else:
    raise AssertionError("rpc accepted it")
prepared = PreparedRequest(1, "eth_blockNumber", b"")
assert isinstance(_answer_outcome(200, body, prepared, "http://node"), NonConformingNode)

# A trace line nested too deeply is "line N: ...", for every way a line is decoded.
header = b'{"type":"header","format":"sandbox-consensus-trace/1","validators":["0xA1"]}\n'
for line in (deep, b'{"type":"vote","x":' + deep + b"}"):
    class Row(msgspec.Struct):
        type: str
    reader = jsonl.LineReader(header + b'{"type":"vote"}\n' + line + b"\n", Row)
    reader.header(lambda raw: None)
    try:
        list(reader.chunks())
    except jsonl.FormatError as exc:
        assert exc.line == 3, exc
    else:
        raise AssertionError("not refused")
try:
    header_of(b'{"type":"header","x":' + deep + b"}\n")
except jsonl.FormatError as exc:
    assert exc.line == 1 and "nested too deeply" in str(exc), exc
else:
    raise AssertionError("not refused")
print("ok")
"""


def test_deep_input_from_nodes_and_traces_is_an_ordinary_error():
    child = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, f"exit {child.returncode}: {child.stderr[-3000:]}"
    assert child.stdout.strip() == "ok"
