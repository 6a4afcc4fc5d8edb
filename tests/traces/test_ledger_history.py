"""Uploaded ledger histories: a nonce gap, a repeated nonce and a negative balance each
fail with the account and the height; value conservation against closing balances; the
format's refusals name the line."""

import pytest

from assessments.engine.jsonl import FormatError
from assessments.engine.suites import ledger

from .helpers import failed_checks, jsonl, ledger_header, tx

A, B, M = "0xAAAA", "0xbbbb", "0xcccc"
ETH = 10**18


def history(*rows, balances=None, nonces=None, closing=None):
    head = ledger_header(balances or {A: str(ETH), B: str(ETH)}, nonces)
    lines = [head, *rows]
    if closing is not None:
        lines.append({"type": "closing", "balances": closing})
    return jsonl(lines)


def test_a_consistent_history_passes_and_conserves_value():
    data = history(
        tx(10, A, B, 1000, 0, fee=300, tip=100, miner=M),
        tx(10, B, A, 500, 0, fee=300, tip=100, miner=M),
        tx(11, A, B, 7, 1, fee=300, status=0),  # failed: fee paid, value kept
        {"type": "reward", "block": 11, "to": M, "value": "5"},
        closing={A: str(ETH - 1000 - 300 + 500 - 300), B: str(ETH + 1000 - 500 - 300), M: "205"},
        nonces={A: 0},
    )
    result = ledger.check_history(data)
    assert failed_checks(result) == set()
    assert result.check("value_conserved").passed is True
    m = result.metrics
    assert (m["transactions"], m["failed_transactions"], m["blocks"]) == (3, 1, 2)
    assert m["fees_burned_wei"] == "700" and m["value_created_wei"] == "5"
    assert result.check("value_conserved").evidence["expected_change_wei"] == str(5 - 700)


def test_a_nonce_gap_fails_with_the_account_and_height():
    data = history(tx(10, A, B, 1, 0), tx(12, A, B, 1, 2), nonces={A: 0})
    result = ledger.check_history(data)
    assert failed_checks(result) == {"nonces_gap_free"}
    (gap,) = result.check("nonces_gap_free").evidence["gaps"]
    assert gap["account"] == A.lower() and gap["block"] == 12
    assert gap["expected_nonce"] == 1 and gap["nonce"] == 2 and gap["missing"] == [1]


def test_a_gap_against_the_opening_nonce_counts_too():
    result = ledger.check_history(history(tx(10, A, B, 1, 5), nonces={A: 3}))
    assert result.check("nonces_gap_free").evidence["gaps"][0]["missing"] == [3, 4]


def test_a_repeated_nonce_is_a_double_spend_with_the_account_and_height():
    data = history(tx(10, A, B, 1, 0, hash="0x01"), tx(11, A, M, 1, 0, hash="0x02"))
    result = ledger.check_history(data)
    assert failed_checks(result) == {"no_double_spend"}
    (spend,) = result.check("no_double_spend").evidence["double_spends"]
    assert spend == {"account": A.lower(), "block": 11, "nonce": 0, "next_nonce": 1, "tx": "0x02"}


def test_a_nonce_filling_an_earlier_gap_is_out_of_order_not_a_double_spend():
    data = history(tx(10, A, B, 1, 0), tx(11, A, B, 1, 2), tx(12, A, B, 1, 1))
    result = ledger.check_history(data)
    assert failed_checks(result) == {"nonces_gap_free"}
    assert result.check("nonces_gap_free").evidence["gaps"][1]["out_of_order"] is True


def test_a_negative_balance_fails_with_the_account_and_height():
    data = history(
        tx(10, B, A, 1, 0, fee=0),
        tx(12, B, A, ETH, 1, fee=21000, hash="0xdead"),
        balances={A: "0", B: str(ETH)},
    )
    result = ledger.check_history(data)
    assert failed_checks(result) == {"no_negative_balance"}
    (neg,) = result.check("no_negative_balance").evidence["negative"]
    assert neg == {"account": B.lower(), "block": 12, "balance_wei": "-21001", "tx": "0xdead"}


def test_an_account_that_was_never_funded_goes_negative():
    result = ledger.check_history(history(tx(3, M, A, 1, 0)))
    assert result.check("no_negative_balance").evidence["negative"][0]["account"] == M


def test_closing_balances_that_do_not_match_fail_value_conservation():
    data = history(tx(10, A, B, 10, 0, fee=0), closing={A: str(ETH - 10), B: str(ETH + 11)})
    check = ledger.check_history(data).check("value_conserved")
    assert check.passed is False
    (diff,) = check.evidence["mismatched"]
    assert diff["account"] == B.lower() and diff["difference_wei"] == "1" and diff["block"] == 10


def test_without_closing_balances_value_conservation_is_not_judged():
    result = ledger.check_history(history(tx(10, A, B, 10, 0)))
    assert result.check("value_conserved").passed is None and result.passed


@pytest.mark.parametrize(
    "bad, words",
    [
        (
            b'{"type":"tx","block":6,"from":"0xa","to":"0xb","value":"1","fee":"1","status":1}',
            "missing field 'nonce'",
        ),
        (
            b'{"type":"tx","block":6,"from":"0xa","value":"1","nonce":0,"fee":"1","status":1}',
            "missing field 'to'",
        ),
        (
            b'{"type":"tx","block":6,"from":"0xa","to":"0xb","value":"ten","nonce":0,"fee":"1","status":1}',
            "not an amount",
        ),
        (
            b'{"type":"tx","block":6,"from":"0xa","to":"0xb","value":"1","nonce":0,"fee":"1","status":7}',
            "status 7",
        ),
        (b'{"type":"mint","block":1}', "unknown record type 'mint'"),
        (
            b'{"type":"tx","block":0,"from":"0xa","to":"0xb","value":"1","nonce":1,"fee":"1","status":1}',
            "block 0 comes after block 5",
        ),
        (b'{"type":"tx", "block":', "not valid JSON"),
    ],
)
def test_a_line_that_breaks_the_format_is_refused_naming_it(bad, words):
    good = jsonl([ledger_header({A: "10"}), tx(5, A, B, 1, 0, fee=1)])
    with pytest.raises(FormatError) as caught:
        ledger.check_history(good + bad + b"\n")
    assert caught.value.line == 3 and words in str(caught.value)


def test_a_truncated_history_is_refused():
    data = history(tx(10, A, B, 1, 0))
    with pytest.raises(FormatError, match="truncated") as caught:
        ledger.check_history(data[:-5])
    assert caught.value.line == 2


def test_nothing_may_follow_the_closing_line():
    data = history(closing={}) + jsonl([tx(10, A, B, 1, 0)])
    with pytest.raises(FormatError, match="closing") as caught:
        ledger.check_history(data)
    assert caught.value.line == 3
