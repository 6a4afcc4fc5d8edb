"""The engine package stands alone: no Django, a registry of suites, clear refusals."""

import subprocess
import sys

import pytest

from assessments.engine import RunCancelled, Target, run_suite
from assessments.engine.errors import InvalidParameters
from assessments.engine.suites import PARAMETERS, SUITES
from tests.engine import conftest
from tests.engine.conftest import REPO, hardhat_key


def test_it_imports_nothing_from_django_or_the_portal():
    code = (
        "import sys, pkgutil, importlib, assessments.engine as e\n"
        "import assessments.engine.suites, assessments.engine.ws, assessments.engine.contracts\n"
        "for m in pkgutil.walk_packages(e.__path__, 'assessments.engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('django', 'applications', 'sandbox_portal', 'rest_framework', 'celery'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_every_suite_has_documented_parameters_with_defaults():
    live = {"block", "crypto", "consensus", "payment", "clearing", "monitoring", "ledger"}
    assert set(SUITES) == live
    assert set(PARAMETERS) == live | {"consensus_trace"}
    for params in PARAMETERS.values():
        params()  # every parameter has a default
        params().validate()


def test_it_refuses_an_unknown_suite(chain):
    with pytest.raises(InvalidParameters, match="unknown suite"):
        run_suite("speed", Target(endpoints=[chain.url], allowed=[chain.url]))


def test_a_target_needs_endpoints():
    with pytest.raises(InvalidParameters):
        Target(endpoints=[], allowed=[])
    with pytest.raises(InvalidParameters):
        Target(endpoints="http://127.0.0.1:8545", allowed=["http://127.0.0.1:8545"])


def test_a_progress_callback_can_cancel_a_run_and_the_funds_go_back(chain):
    from eth_account import Account

    faucet = Account.from_key(hardhat_key(9)).address
    before = int(chain.rpc("eth_getBalance", faucet, "latest"), 16)

    def cancel_after_funding(percent, message):
        if percent >= 10:
            raise RunCancelled("cancelled by the case officer")

    target = Target(endpoints=[chain.url], allowed=[chain.url], faucet_key=hardhat_key(9))
    with pytest.raises(RunCancelled):
        run_suite(
            "payment",
            target,
            {"accounts": 2, "fund_wei": 10**17, "spread_s": 0},
            progress=cancel_after_funding,
        )
    after = int(chain.rpc("eth_getBalance", faucet, "latest"), 16)
    assert before - after < 10**15  # only gas is lost, not the 0.2 ETH funded


def test_a_missing_node_install_fails_with_advice_to_run_npm_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "HARDHAT", tmp_path / "node_modules" / ".bin" / "hardhat")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        conftest.start_node(tmp_path)
