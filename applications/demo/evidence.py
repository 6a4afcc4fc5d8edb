"""Technical evidence for the demo: real test runs against the reference node.

When the reference node (``make run`` starts it on 127.0.0.1:$CHAIN_PORT) answers, the
demo's cases in technical testing run their test plan on it with ``assessments.services.
run_now``: the same rows, log and audit events as a run a regulator starts, executed in
the loading process instead of by a worker. The evaluation issued later cites those runs,
so the admitted case's report shows real evidence. When the node does not answer, the
cases are built without runs.

The parameters are the plan's, made smaller so the whole demo loads in well under a
minute, except the payment suite's sample: a p99 needs a few hundred transfers to be
judged at all. The reference node mines a block every second, so a payment waits up to a
second for its block; the suite derives its bounds from the observed block interval
(two intervals and half a second, finality at one confirmation).

A freshly started node holds no transaction, and the crypto suite judges the signatures
of the transactions it finds; so before a run the demo puts a few signed transfers from
the faucet account on the node, as the firm's own traffic would be.
"""

import httpx
from django.conf import settings

from assessments import plans, services
from assessments.engine import EngineError, Target
from assessments.engine import accounts as chain_accounts
from assessments.engine.suites.common import client
from sandbox_portal import outgoing

from .data import chain_url

PROBE_TIMEOUT_S = 2.0

# What the demo's runs change from the plan's defaults (``assessments.plans``).
PARAMETERS = {
    "block": {"blocks": 20, "observe_seconds": 3.0},
    "crypto": {"blocks": 50, "max_transactions": 200},
    "consensus": {"duration_s": 3.0, "compare_blocks": 10},
    # The plan's sample size (400 transfers, enough for a p99 with a finite interval) and
    # its bounds, derived from the node's block interval.
    "payment": {
        "finality_depth": 1,
        "double_spend_observe_blocks": 2,
        "confirm_timeout_s": 15.0,
    },
    # The reference node often shares a laptop with the whole portal: the generator may
    # fall up to 0.2 s behind its schedule (two sends at 10 tx/s) before a step is void.
    "clearing": {
        "rates": [5.0, 10.0],
        "step_seconds": 2.0,
        "max_generator_lag_s": 0.2,
        "confirm_timeout_s": 10.0,
    },
    "monitoring": {},
}

# Transfers put on the node before a run, so the crypto suite has signatures to judge.
PILOT_TRANSFERS = 3


def reference_node_answers(url=None):
    """True when the reference node answers ``eth_chainId`` at ``url`` (by default
    http://127.0.0.1:$CHAIN_PORT)."""
    try:
        reply = httpx.post(
            url or chain_url(),
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            timeout=PROBE_TIMEOUT_S,
        )
        return isinstance(reply.json().get("result"), str)
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


def reference_nodes(app):
    """The case's registered nodes that are the reference node."""
    return list(app.nodes.filter(endpoint_url=chain_url()).order_by("pk"))


def run_test_plan(app, actor):
    """Run the case's test plan on its reference node and return the finished run, or
    None when the case has no reference node or the node does not answer."""
    nodes = reference_nodes(app)
    if not nodes or not reference_node_answers():
        return None
    suites = plans.default_suites(app)
    pilot_traffic(nodes[0].endpoint_url)
    return services.run_now(
        app,
        actor=actor,
        suites=suites,
        parameters={name: PARAMETERS[name] for name in suites},
        node_ids=[n.pk for n in nodes],
    )


def pilot_traffic(url):
    """Send ``PILOT_TRANSFERS`` signed transfers from the faucet and wait until they are
    mined. Best effort: a node that refuses them is tested as it is."""
    target = Target(
        endpoints=[url],
        allowed=[url],
        faucet_key=settings.ENGINE_FAUCET_KEY,
        allowed_networks=outgoing.allowed_networks(),
    )
    try:
        with client(target) as rpc:
            chain_accounts.fund(
                rpc,
                target.faucet_key,
                [a.address for a in chain_accounts.new_accounts(PILOT_TRANSFERS)],
                10**15,
                chain=chain_accounts.chain_id(rpc),
                price=chain_accounts.gas_price(rpc, 2.0),
                timeout=15.0,
            )
    except EngineError:
        pass


def latest_run(app):
    from assessments.models import RunStatus

    return (
        app.test_runs.filter(status=RunStatus.SUCCEEDED)
        .prefetch_related("suite_runs")
        .order_by("-finished_at", "-pk")
        .first()
    )


def measured(app):
    """One sentence on what the case's latest run measured, or "" without a run."""
    run = latest_run(app)
    if run is None:
        return ""
    verdict = "every suite passed" if run.passed else "not every suite passed"
    parts = [f"Test run {run.pk} on the reference node: {verdict}"]
    for suite_run in run.suite_runs.all():
        metrics = suite_run.result.get("metrics", {})
        if suite_run.suite == "payment":
            p99 = (metrics.get("receipt_latency_s") or {}).get("p99")
            if p99 is not None:
                parts.append(f"payment p99 latency {p99:.2f} s")
        if suite_run.suite == "clearing":
            tps = (metrics.get("saturation") or {}).get("max_sustained_confirmed_tps")
            if tps is not None:
                parts.append(f"{tps:g} tx/s sustained")
    return "; ".join(parts) + "."
