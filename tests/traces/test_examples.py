"""The shipped examples are the generator's output and give their expected verdicts; the
generator is deterministic; ``manage.py generate_trace`` writes what it generates."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assessments.engine import tracegen
from assessments.engine.suites import consensus_trace, ledger

from .helpers import failed_checks

EXAMPLES = Path(tracegen.__file__).parent / "examples"


@pytest.mark.parametrize("name", sorted(tracegen.EXAMPLES))
def test_each_shipped_example_is_the_generators_output_with_its_verdict(name):
    path = EXAMPLES / name
    assert path.read_text() == tracegen.example_text(name), (
        f"{name} differs from the generator: regenerate it (see examples/README.md)"
    )
    kind = tracegen.EXAMPLES[name][0]
    check = ledger.check_history if kind.startswith("ledger") else consensus_trace.check
    result = check(path)
    assert failed_checks(result) == tracegen.EXPECTED_FAILURES[kind]
    assert result.passed is (not tracegen.EXPECTED_FAILURES[kind])


def test_every_example_file_is_listed():
    shipped = {p.name for p in EXAMPLES.glob("*.jsonl")}
    assert shipped == set(tracegen.EXAMPLES)


def test_the_generator_is_deterministic_and_the_seed_matters():
    one = "".join(tracegen.lines("fork", size=9, seed=4))
    assert one == "".join(tracegen.lines("fork", size=9, seed=4))
    assert one != "".join(tracegen.lines("fork", size=9, seed=5))


def test_the_command_writes_the_generators_trace(tmp_path):
    out = tmp_path / "t.jsonl"
    call_command(
        "generate_trace",
        "--kind",
        "equivocation",
        "--heights",
        "9",
        "--validators",
        "7",
        "--seed",
        "2",
        "-o",
        str(out),
    )
    expected = "".join(tracegen.lines("equivocation", size=9, participants=7, seed=2))
    assert out.read_text() == expected
    result = consensus_trace.check(out)
    assert result.metrics["validators"] == 7 and result.metrics["max_faulty"] == 2
    assert failed_checks(result) == {"equivocation"}


def test_the_command_writes_a_ledger_history(tmp_path):
    out = tmp_path / "h.jsonl"
    call_command("generate_trace", "--kind", "ledger_nonce_gap", "--heights", "6", "-o", str(out))
    assert failed_checks(ledger.check_history(out)) == {"nonces_gap_free"}


def test_the_command_refuses_bad_arguments(tmp_path):
    with pytest.raises(CommandError, match="--heights"):
        call_command("generate_trace", "--heights", "0", "-o", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="cannot write"):
        call_command("generate_trace", "-o", str(tmp_path / "missing" / "x.jsonl"))
