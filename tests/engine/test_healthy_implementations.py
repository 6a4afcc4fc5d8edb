"""No false alarms: on two healthy Ethereum implementations with one-second blocks, Hardhat
(the reference node's configuration: interval mining, no automine) and ganache 7.9.2, every
suite with the plan's default parameters gives no failed check of the node. A check of
the engine's own instrument that fails (a machine too loaded to keep the measuring budget)
makes the run invalid, which is not a verdict on the node: it is reported as a warning.

The consensus suite compares the node with itself through a pass-through ``FaultProxy``
(two endpoints, so safety and height lag are judged). ``bench/verdicts_healthy.py`` repeats
these runs many times and counts.
"""

import warnings

import pytest

from assessments.engine.results import FAILED
from assessments.engine.suites import SUITES
from assessments.plans import SUITE_ORDER, default_parameters
from tests.engine.conftest import start_node, stop_node
from tests.engine.faultproxy import FaultProxy
from tests.engine.nodes import suite_target

# Judged against time budgets (latency, generator lag): run alone, not beside other tests.
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module", params=["hardhat", "ganache"])
def implementation(request, tmp_path_factory):
    """(name, node, pass-through proxy) for a freshly started healthy node."""
    if request.param == "ganache":
        node = request.getfixturevalue("ganache_chain")
        with FaultProxy(node.url) as proxy:
            yield request.param, node, proxy
        return
    node = start_node(tmp_path_factory.mktemp("hardhat"), chain_id=31337, automine=False)
    with FaultProxy(node.url) as proxy:
        yield request.param, node, proxy
    stop_node(node)


@pytest.mark.parametrize("suite", SUITE_ORDER)
def test_a_healthy_node_fails_no_check(implementation, suite):
    name, node, proxy = implementation
    parameters = default_parameters([suite])[suite]
    result = SUITES[suite](suite_target(suite, node.url, proxy.url), parameters)
    failures = [c.to_dict() for c in result.checks if c.outcome == FAILED and not c.instrument]
    assert not failures, (name, suite, failures)
    if result.outcome == "invalid":
        # Our own instrument out of its budget (a loaded machine) voids the run; that is not
        # a verdict on the node, so it is reported rather than failed here.
        warnings.warn(f"{name} {suite}: run invalid: {result.invalid_reason}", stacklevel=1)
    judged = [c for c in result.checks if c.outcome != "not_judged"]
    assert judged, (name, suite, result.to_dict()["checks"])
