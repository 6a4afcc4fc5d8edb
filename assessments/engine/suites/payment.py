"""Payment suite: are payments fast, final, never doubled, rolled back when they fail?

Creates ``accounts`` fresh test accounts, funds them from the target's faucet, and then
guarantees these checks:

- ``receipt_latency``: the p99 *inclusion latency* (from the moment a transfer is handed to
  a node to the moment that node shows a block including it) of ``transfers`` transfers is
  within the bound, and every transfer succeeded. The transfers are sent in rounds, one
  from every account at a random point of a ``spread_s`` window (so submissions fall at
  random points of the block interval, many in one block), round-robin over the target's
  endpoints. The bound is ``max_p99_latency_s`` when the plan sets it, otherwise
  ``block_time_allowance`` (default 2) x the chain's observed block interval +
  ``latency_allowance_s`` (default 0.5 s): a payment waits up to one interval for the next
  block, and one that reaches the node while a block is being sealed waits for the next;
- ``finality_latency``: the same for the latency to ``finality_depth`` confirmations (the
  including block ``finality_depth`` - 1 blocks under the head), bound
  ``max_p99_finality_s`` or (``block_time_allowance`` + ``finality_depth`` - 1) x the block
  interval + ``latency_allowance_s``;
- ``double_spend``: of two conflicting transactions with one nonce, sent at the same moment
  (to two endpoints when the target has two), at most one is ever included, also after
  ``double_spend_observe_blocks`` more blocks;
- ``rollback``: a payment to a contract that reverts fails, the sender is told (a failed
  receipt or a refusal), and every balance is unchanged but for the gas the sender paid;
- ``value_conservation``: the test accounts (and the probe contract) hold exactly what was
  funded minus the fees their receipts show.

Latency verdicts are statistical claims, not single numbers: each p99 is an order statistic
reported with its distribution-free 95 % confidence interval (``stats.percentile_claim``),
and a bound is failed only when the interval's lower end is above it, passed when its upper
end is at or below it, inconclusive otherwise (too few samples: p99 needs 368). Each latency
is itself an interval on the engine's monotonic clock: the block was not visible at the start
of the last poll that did not show it, and was at the end of the first poll that did.

The engine's own measurement error is measured in every run and judged by instrument checks
(their failure makes the suite invalid, never failed): ``measurement_resolution`` (p99 width
of those latency intervals: poll interval plus round trips, within ``max_poll_error_s``),
``scheduling_lag`` (p99 of how late the sender and the pollers woke, within
``max_scheduling_lag_s``) and ``clock`` (the wall clock did not step against the monotonic
one by more than ``max_clock_step_s``; the offset between the engine's clock and the blocks'
own timestamps, second resolution on Ethereum, is reported beside it).

When nothing is mined (funding or transfers), the suite records a failed check naming the
height and the time of the last block ("no block produced for 30 s since height 1234 (last
block at ... UTC)") and returns what it has instead of raising. What is left is returned to
the faucet afterwards (``return_funds``).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from eth_account import Account

from .. import accounts as acc
from .. import contracts
from ..errors import EngineError, InvalidParameters, RpcError
from ..results import (
    FAILED,
    NOT_JUDGED,
    PASSED,
    Progress,
    Recorder,
    SuiteResult,
    Target,
    parse_parameters,
    require,
)
from ..rpc import RpcClient
from ..stats import LatencyHistogram, judge_bound, nearest_rank, percentile_claim
from . import inclusion
from .common import async_client, client, head, recent_interval

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class PaymentParameters:
    accounts: int = 50
    """Test accounts created and funded; each round sends one transfer from each of them, so
    this many transfers are in flight at once (many in one block)."""
    fund_wei: int = 10**17
    """Wei the faucet gives each test account."""
    transfers: int = 400
    """Transfers whose latency is measured (a p99 with a finite 95 % interval needs 368)."""
    transfer_wei: int = 1000
    """Value of each transfer."""
    max_p99_latency_s: float | None = None
    """Bound on the p99 inclusion latency in seconds; None: derived from the block interval
    (``block_time_allowance`` x observed interval + ``latency_allowance_s``)."""
    block_time_allowance: float = 2.0
    """Block intervals a payment may wait for its block in the derived bounds: it waits up
    to one for the next block, and one that arrives while a block is being sealed goes
    into the block after it."""
    latency_allowance_s: float = 0.5
    """Fixed allowance in the derived bounds: propagation, RPC, the engine's polling."""
    confidence: float = 0.95
    """Confidence of the percentiles' intervals."""
    spread_s: float = 1.0
    """Each round's transfers are sent at random points of a window this long, so they
    fall at random points of the block interval rather than just after a block."""
    finality_depth: int = 1
    """Confirmations that make a payment final (1: the including block itself)."""
    max_p99_finality_s: float | None = None
    """Bound on the p99 latency to ``finality_depth`` confirmations; None: derived
    ((``block_time_allowance`` + depth - 1) x observed interval + ``latency_allowance_s``)."""
    poll_interval_s: float = 0.02
    """How often each endpoint's head is read while waiting (the latency resolution)."""
    max_poll_error_s: float = 0.2
    """Instrument budget: p99 width of a latency's interval (poll interval + round trips)."""
    max_scheduling_lag_s: float = 0.1
    """Instrument budget: p99 of how late the engine's sender and pollers woke."""
    max_clock_step_s: float = 0.5
    """Instrument budget: how far the wall clock may step against the monotonic clock."""
    confirm_timeout_s: float = 30.0
    """How long a payment may take before it is counted as unconfirmed; a head that does
    not move for this long is a stalled chain."""
    gas_price_multiplier: float = 2.0
    """Gas price paid, as a multiple of the node's eth_gasPrice."""
    double_spend: bool = True
    """Run the double-spend probe."""
    double_spend_observe_blocks: int = 3
    """Blocks watched after the first of the pair is mined, in case the other appears."""
    rollback: bool = True
    """Run the rollback probe."""
    conservation_tolerance_wei: int = 0
    """Acceptable difference between observed and expected total balance."""
    return_funds: bool = True
    """Send what is left back to the faucet at the end."""

    def validate(self) -> None:
        require(2 <= self.accounts <= 1000, "accounts must be between 2 and 1000")
        require(self.fund_wei > 0 and self.transfer_wei >= 0, "fund_wei must be positive")
        require(0 <= self.transfers <= 100_000, "transfers must be between 0 and 100000")
        for bound in (self.max_p99_latency_s, self.max_p99_finality_s):
            require(bound is None or 0 < bound <= 3600, "latency bounds must be 0-3600 s")
        require(0 <= self.block_time_allowance <= 100, "block_time_allowance must be 0-100")
        require(0 <= self.latency_allowance_s <= 3600, "latency_allowance_s must be 0-3600")
        require(0.5 <= self.confidence < 1, "confidence must be in [0.5, 1)")
        require(0 <= self.spread_s <= 60, "spread_s must be between 0 and 60")
        require(1 <= self.finality_depth <= 1000, "finality_depth must be between 1 and 1000")
        require(0.001 <= self.poll_interval_s <= 10, "poll_interval_s must be 0.001-10")
        require(self.max_poll_error_s > 0, "max_poll_error_s must be positive")
        require(self.max_scheduling_lag_s > 0, "max_scheduling_lag_s must be positive")
        require(self.max_clock_step_s > 0, "max_clock_step_s must be positive")
        require(0 < self.confirm_timeout_s <= 3600, "confirm_timeout_s must be 0-3600")
        require(self.gas_price_multiplier >= 1, "gas_price_multiplier must be at least 1")
        require(self.double_spend_observe_blocks >= 0, "double_spend_observe_blocks >= 0")


@dataclass
class _Context:
    rpc: RpcClient
    clients: list[RpcClient]
    chain: int
    price: int
    ledger: acc.Ledger
    lock: threading.Lock
    stalled: str = ""  # the sentence naming a stall, once one is seen


def run(
    target: Target,
    parameters: dict | PaymentParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the payment suite; see the module docstring. Needs ``target.faucet_key``.

    Guarantees: the test accounts' remaining funds go back to the faucet (also when the run
    is cancelled or fails); a chain that mines nothing gives a failed check naming the
    height and time it stopped, never an exception.
    """
    p = parse_parameters(PaymentParameters, parameters)
    if not target.faucet_key:
        raise InvalidParameters("the payment suite needs a faucet key to fund its test accounts")
    rec = Recorder("payment", target, p, progress)
    clients = [client(target, e, max_connections=8) for e in target.endpoints]
    rpc = clients[0]
    wallet = acc.new_accounts(p.accounts)
    ctx = _Context(
        rpc=rpc,
        clients=clients,
        chain=acc.chain_id(rpc),
        price=acc.gas_price(rpc, p.gas_price_multiplier),
        ledger=acc.Ledger(),
        lock=threading.Lock(),
    )
    try:
        _checks(ctx, target, wallet, p, rec)
    finally:
        _return_funds(ctx, wallet, target, p, rec)
    return rec.finish()


def _checks(ctx: _Context, target: Target, wallet, p: PaymentParameters, rec: Recorder) -> None:
    rec.progress(0, f"funding {p.accounts} test accounts from the faucet")
    try:
        acc.fund(
            ctx.rpc,
            target.faucet_key,
            [a.address for a in wallet],
            p.fund_wei,
            chain=ctx.chain,
            price=ctx.price,
            timeout=p.confirm_timeout_s,
            ledger=ctx.ledger,
        )
    except acc.FundingFailed as exc:
        if not exc.of_the_system:
            raise
        # The chain did not mine (or reverted) the funding: a verdict, not an error.
        ctx.stalled = str(exc) if exc.evidence.get("stalled") else ""
        rec.check(
            "funding",
            outcome=FAILED,
            message=str(exc),
            description="the faucet's funding transactions are mined and succeed",
            **exc.evidence,
        )
        return
    nonces = {a.address: 0 for a in wallet}
    _latency(ctx, target, wallet, nonces, p, rec)
    if ctx.stalled:
        return  # nothing more can be mined: the probes would only wait
    extra: list[str] = []
    if p.double_spend:
        rec.progress(70, "double-spend probe")
        _double_spend(ctx, wallet, nonces, p, rec)
    if p.rollback:
        rec.progress(80, "rollback probe")
        payee = _rollback(ctx, wallet, nonces, p, rec)
        if payee:
            extra.append(payee)
    rec.progress(90, "value conservation")
    report = ctx.ledger.conservation(ctx.rpc, extra)
    rec.result.metrics["conservation"] = report
    difference = int(report["difference_wei"])
    kept = abs(difference) <= p.conservation_tolerance_wei
    rec.check(
        "value_conservation",
        kept,
        "the test accounts hold what was funded minus the fees their receipts show",
        message=(
            f"the {report['accounts']} test accounts hold {report['observed_total_wei']} "
            f"wei, expected {report['expected_total_wei']} (funded minus fees): "
            + (
                "exactly as expected"
                if difference == 0
                else f"{'within tolerance,' if kept else 'off by'} {difference:+d} wei"
            )
        ),
        **report,
    )


def _return_funds(ctx: _Context, wallet, target: Target, p: PaymentParameters, rec) -> None:
    try:
        if p.return_funds:
            returned = acc.sweep(
                ctx.rpc,
                wallet,
                Account.from_key(target.faucet_key).address,
                chain=ctx.chain,
                price=ctx.price,
                # A stalled chain mines nothing: do not wait for what cannot come.
                timeout=1.0 if ctx.stalled else p.confirm_timeout_s,
            )
            rec.log(f"returned {returned} wei to the faucet")
    except EngineError as exc:
        rec.log(f"could not return the funds: {exc}")
    finally:
        for c in ctx.clients:
            c.close()


def _await_receipt(rpc: RpcClient, tx_hash: str, p: PaymentParameters) -> dict | None:
    deadline = time.monotonic() + p.confirm_timeout_s
    while True:
        receipt = rpc.call("eth_getTransactionReceipt", tx_hash)
        if receipt is not None or time.monotonic() >= deadline:
            return receipt
        time.sleep(p.poll_interval_s)


def _await_height(rpc: RpcClient, height: int, p: PaymentParameters) -> bool:
    deadline = time.monotonic() + p.confirm_timeout_s
    while head(rpc) < height:
        if time.monotonic() >= deadline:
            return False
        time.sleep(p.poll_interval_s)
    return True


def _charge(ctx: _Context, receipt: dict, price: int) -> None:
    with ctx.lock:
        ctx.ledger.fees += acc.fee_paid(receipt, price, ctx.rpc.endpoint)


def _latency(ctx: _Context, target: Target, wallet, nonces, p: PaymentParameters, rec) -> None:
    """Measure inclusion and finality latency and judge them; see the module docstring."""
    rec.progress(10, f"sending {p.transfers} transfers, {p.accounts} at a time")

    def signer(account):
        def sign(offset: int) -> acc.SignedTx:
            return acc.sign(
                account,
                nonce=offset,
                chain_id=ctx.chain,
                gas_price=ctx.price,
                to=wallet[(wallet.index(account) + 1) % len(wallet)].address,
                value=p.transfer_wei,
            )

        return sign

    async def go() -> inclusion.Measurement:
        clients = [async_client(target, e, max_connections=16) for e in target.endpoints]
        try:
            heads = [head(c) for c in ctx.clients]
            return await inclusion.measure(
                clients,
                heads,
                [(i, signer(a)) for i, a in enumerate(wallet)],
                count=p.transfers,
                spread_s=p.spread_s,
                poll_s=p.poll_interval_s,
                depth=p.finality_depth,
                timeout_s=p.confirm_timeout_s,
                on_round=lambda done: rec.progress(10 + 60 * done / max(1, p.transfers)),
                log=rec.log,
            )
        finally:
            for c in clients:
                await c.close()

    m = asyncio.run(go())
    for t in m.transfers:
        if t.state in ("included", "failed"):
            nonces[t.tx.sender] = max(nonces[t.tx.sender], t.tx.nonce + 1)
    with ctx.lock:
        ctx.ledger.fees += sum(w.fees for w in m.watches)
    _judge_latency(ctx, m, p, rec)


def _judge_latency(ctx: _Context, m: inclusion.Measurement, p: PaymentParameters, rec) -> None:
    ts = m.transfers
    outcomes = {
        "succeeded": sum(t.state == "included" for t in ts),
        "failed": sum(t.state == "failed" for t in ts),
        "refused": sum(t.state == "refused" for t in ts),
        "unconfirmed": sum(t.state in ("unconfirmed", "sent") for t in ts),
        "not_final": sum(t.state == "included" and t.final is None for t in ts),
        "not_sent": max(0, p.transfers - len(ts)),
    }
    ok = [t for t in ts if t.state == "included"]
    incl = [t.latency() for t in ok]
    final = [t.finality() for t in ok if t.final is not None]
    receipt_h, final_h = LatencyHistogram(), LatencyHistogram()
    for _, high in incl:
        receipt_h.record(high)
    for _, high in final:
        final_h.record(high)

    # The chain's block interval: heads seen to change while watching, on our clock; the
    # blocks' own timestamps as a cross-check; the chain's recent past if we saw too little.
    watch = m.watches[0]
    observed, stamped = watch.interval(), watch.stamped_interval()
    interval, source = observed, "observed while sending"
    if interval is None:
        try:
            interval, source = recent_interval(ctx.rpc, head(ctx.rpc)), "block timestamps"
        except EngineError:
            interval = None
    block = {
        "interval_s": None if interval is None else round(interval, 4),
        "source": source,
        "observed_interval_s": None if observed is None else round(observed, 4),
        "timestamp_interval_s": None if stamped is None else round(stamped, 4),
        "blocks_seen": len(watch.changes),
    }

    inclusion_claim = percentile_claim(
        [h for _, h in incl], 99.0, p.confidence, lows=[lo for lo, _ in incl]
    )
    finality_claim = percentile_claim(
        [h for _, h in final], 99.0, p.confidence, lows=[lo for lo, _ in final]
    )
    bounds = _bounds(p, interval)
    widths = [h - lo for lo, h in incl]
    offset = _clock_offset(ok)
    error = {
        "resolution_p99_s": _p99(widths),
        "resolution_max_s": max(widths, default=None),
        "scheduling_lag_p99_s": _p99(m.lags),
        "scheduling_lag_max_s": max(m.lags, default=None),
        "wall_clock_step_s": round(m.clock_step_s, 6),
        "node_clock_offset_s": offset,
        "polls": sum(w.polls for w in m.watches),
        "failed_polls": sum(w.failed_polls for w in m.watches),
        "poll_interval_s": p.poll_interval_s,
    }
    rec.result.metrics.update(
        {
            "transfers": outcomes,
            "receipt_latency_s": receipt_h.summary(),
            "finality_latency_s": final_h.summary(),
            "finality_depth": p.finality_depth,
            "inclusion_p99": inclusion_claim.to_dict(),
            "finality_p99": finality_claim.to_dict(),
            "block": block,
            "criterion": bounds,
            "measurement_error": error,
            "block_timestamp_latency_s": _stamped_latency(ok),
        }
    )
    rec.result.charts["receipt_latency_s"] = sorted([t.index, round(t.latency()[1], 6)] for t in ok)

    if m.stall is not None:
        sentence, evidence = acc.stall_sentence(ctx.rpc, m.stall.height, m.stall.idle_s)
        ctx.stalled = f"{sentence} (node {m.stall.endpoint})"
        rec.check(
            "chain_progress",
            outcome=FAILED,
            message=f"{ctx.stalled}: {outcomes['unconfirmed']} transfers were not mined",
            description="blocks keep being produced while payments wait",
            endpoint=m.stall.endpoint,
            **evidence,
        )
    _instrument_checks(m, p, error, rec)
    _bound_check(
        "receipt_latency",
        "p99 inclusion latency",
        inclusion_claim,
        bounds["inclusion_bound_s"],
        outcomes,
        p,
        rec,
        description=(
            "p99 inclusion latency (submit to included in a block) within the bound, "
            "and every transfer succeeds"
        ),
    )
    _bound_check(
        "finality_latency",
        f"p99 latency to {p.finality_depth} confirmations",
        finality_claim,
        bounds["finality_bound_s"],
        None,
        p,
        rec,
        description=f"p99 latency to {p.finality_depth} confirmations within the bound",
    )


def _bounds(p: PaymentParameters, interval: float | None) -> dict:
    """The criterion: explicit bounds, or derived from the block interval."""

    def derived(blocks: float) -> float | None:
        if interval is None:
            return None
        return round(blocks * interval + p.latency_allowance_s, 4)

    inclusion_bound = p.max_p99_latency_s
    if inclusion_bound is None:
        inclusion_bound = derived(p.block_time_allowance)
    finality_bound = p.max_p99_finality_s
    if finality_bound is None:
        finality_bound = derived(p.block_time_allowance + p.finality_depth - 1)
    return {
        "inclusion_bound_s": inclusion_bound,
        "finality_bound_s": finality_bound,
        "inclusion_rule": (
            "set by the test plan"
            if p.max_p99_latency_s is not None
            else f"{p.block_time_allowance:g} x block interval + {p.latency_allowance_s:g} s"
        ),
        "finality_rule": (
            "set by the test plan"
            if p.max_p99_finality_s is not None
            else (
                f"({p.block_time_allowance:g} + {p.finality_depth} - 1) x block interval "
                f"+ {p.latency_allowance_s:g} s"
            )
        ),
        "percentile": 99.0,
        "confidence": p.confidence,
    }


def _bound_check(name, what, claim, bound, outcomes, p, rec, description) -> None:
    evidence = {"bound_s": bound, "p99_s": claim.value, **claim.to_dict()}
    if bound is None:
        rec.check(
            name,
            outcome=NOT_JUDGED,
            message=f"{what} not judged: the chain's block interval could not be observed",
            description=description,
            **evidence,
        )
        return
    outcome, message = judge_bound(claim, bound, what)
    if outcomes is not None:
        evidence["outcomes"] = outcomes
        bad = {k: v for k, v in outcomes.items() if k in ("failed", "refused", "unconfirmed") and v}
        if bad and outcome != NOT_JUDGED:
            # A payment that never arrives is slower than any bound.
            detail = ", ".join(f"{v} {k}" for k, v in bad.items())
            outcome = FAILED
            message = f"of {p.transfers} transfers {detail}; {message}"
    rec.check(name, outcome=outcome, message=message, description=description, **evidence)


def _instrument_checks(m: inclusion.Measurement, p: PaymentParameters, error: dict, rec):
    resolution = error["resolution_p99_s"]
    if resolution is None:
        outcome, message = NOT_JUDGED, "no transfer was included, so no latency was measured"
    else:
        outcome = PASSED if resolution <= p.max_poll_error_s else FAILED
        message = (
            f"each latency was known to within {resolution:.3f} s at p99 (poll interval "
            f"{p.poll_interval_s:g} s plus round trips; budget {p.max_poll_error_s:g} s)"
        )
        if outcome == FAILED:
            message = f"the engine's latency measurement was too coarse: {message}"
    rec.check(
        "measurement_resolution",
        outcome=outcome,
        message=message,
        description="the engine knew each latency to within its budget",
        instrument=True,
        resolution_p99_s=resolution,
        budget_s=p.max_poll_error_s,
    )
    lag = error["scheduling_lag_p99_s"]
    if lag is None:
        outcome, message = NOT_JUDGED, "the engine's sender and pollers never slept"
    else:
        outcome = PASSED if lag <= p.max_scheduling_lag_s else FAILED
        message = (
            f"the engine's sender and pollers woke {lag:.3f} s late at p99 "
            f"(max {error['scheduling_lag_max_s']:.3f} s; budget {p.max_scheduling_lag_s:g} s)"
        )
        if outcome == FAILED:
            message = f"the engine fell behind its own schedule: {message}"
    rec.check(
        "scheduling_lag",
        outcome=outcome,
        message=message,
        description="the engine's sender and pollers woke on time",
        instrument=True,
        lag_p99_s=lag,
        budget_s=p.max_scheduling_lag_s,
    )
    step = error["wall_clock_step_s"]
    offset = error["node_clock_offset_s"]
    outcome = PASSED if abs(step) <= p.max_clock_step_s else FAILED
    message = (
        f"the engine's wall clock moved {step:+.3f} s against its monotonic clock "
        f"(budget {p.max_clock_step_s:g} s); {offset['sentence']}"
    )
    rec.check(
        "clock",
        outcome=outcome,
        message=message,
        description="the engine's clocks agree; the node's block timestamps compared with them",
        instrument=True,
        wall_clock_step_s=step,
        node_clock_offset_s=offset,
        budget_s=p.max_clock_step_s,
    )


def _clock_offset(ok: list[inclusion.Transfer]) -> dict:
    """The node's clock minus ours, as far as the blocks' timestamps tell.

    A block's timestamp is in whole seconds (Ethereum): inclusion happened in [ts, ts + 1)
    on the node's clock and between the send and the poll that saw it on ours, so the
    offset lies in [ts - seen_by, ts + 1 - sent] for every transfer; the intersection is
    the estimate. An empty one means the timestamps do not follow real time (for example,
    a node that mines a block per transaction and advances the timestamp each time).
    """
    low, high = float("-inf"), float("inf")
    for t in ok:
        if t.block_time is None or t.seen_wall is None:
            continue
        low = max(low, t.block_time - t.seen_wall[1])
        high = min(high, t.block_time + 1 - t.sent_wall)
    if low == float("-inf"):
        return {"low_s": None, "high_s": None, "sentence": "no block timestamp to compare"}
    if low > high:
        return {
            "low_s": None,
            "high_s": None,
            "sentence": (
                "the blocks' timestamps do not follow real time (no single clock offset fits "
                "them), so latency is taken from the engine's clock alone"
            ),
        }
    return {
        "low_s": round(low, 3),
        "high_s": round(high, 3),
        "sentence": (
            f"the node's block timestamps (whole seconds) put its clock {low:+.3f} to "
            f"{high:+.3f} s from the engine's"
        ),
    }


def _stamped_latency(ok: list[inclusion.Transfer]) -> dict:
    """Submit-to-block-timestamp latency: whole seconds, so each value v means [v, v + 1)."""
    values = [t.block_time - t.sent_wall for t in ok if t.block_time is not None]
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(values),
        "resolution_s": 1.0,
        "note": "block timestamps have one-second resolution: each value v means [v, v + 1)",
        "p50": round(ordered[nearest_rank(len(ordered), 0.5) - 1], 3),
        "p99": round(ordered[nearest_rank(len(ordered), 0.99) - 1], 3),
        "max": round(ordered[-1], 3),
    }


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[nearest_rank(len(ordered), 0.99) - 1], 6)


def _double_spend(ctx: _Context, wallet, nonces, p: PaymentParameters, rec: Recorder) -> None:
    sender, first, second = wallet[0], wallet[1], wallet[-1]
    nonce = acc.nonce_of(ctx.rpc, sender.address)
    pair = [
        acc.sign(sender, nonce=nonce, chain_id=ctx.chain, gas_price=ctx.price, to=to, value=v)
        for to, v in ((first.address, p.transfer_wei + 1), (second.address, p.transfer_wei + 2))
    ]
    targets = [ctx.clients[0], ctx.clients[-1]]
    barrier = threading.Barrier(2)

    def send(i: int):
        barrier.wait()
        try:
            return {"endpoint": targets[i].endpoint, "accepted": acc.send_raw(targets[i], pair[i])}
        except RpcError as exc:
            return {"endpoint": targets[i].endpoint, "refused": exc.message}

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = list(pool.map(send, range(2)))
    mined = _await_nonce(ctx.rpc, sender.address, nonce + 1, p)
    if mined:
        _await_height(ctx.rpc, head(ctx.rpc) + p.double_spend_observe_blocks, p)
    included = []
    for tx in pair:
        for c in ctx.clients:
            receipt = c.call("eth_getTransactionReceipt", tx.hash)
            if isinstance(receipt, dict) and receipt.get("blockNumber"):
                height = _decimal(receipt.get("blockNumber"))
                included.append({"tx": tx.hash, "height": height, "endpoint": c.endpoint})
                _charge(ctx, receipt, ctx.price)
                break
    nonces[sender.address] = max(nonces[sender.address], nonce + 1)
    rec.result.metrics["double_spend"] = {"sent": sent, "included": len(included)}
    where = ", ".join(f"{i['tx']} at height {i['height']} ({i['endpoint']})" for i in included)
    if len(included) > 1:
        outcome = FAILED
        message = (
            f"both transactions spending nonce {nonce} of {sender.address} were reported "
            f"included: {where}"
        )
    elif included:
        outcome = PASSED
        message = f"of two transactions spending nonce {nonce}, only {where} was included"
    else:
        outcome = NOT_JUDGED
        message = (
            f"neither transaction spending nonce {nonce} was included within "
            f"{p.confirm_timeout_s:g} s, so the probe proves nothing"
        )
    rec.check(
        "double_spend",
        outcome=outcome,
        message=message,
        description="of two transactions spending one nonce, at most one is ever included",
        nonce=nonce,
        transactions=[t.hash for t in pair],
        sent=sent,
        included=included,
        nonce_consumed=mined,
    )


def _decimal(value) -> int | None:
    """A hex quantity from a receipt as a decimal height (None if it is not one)."""
    try:
        return int(value, 16) if isinstance(value, str) else None
    except ValueError:
        return None


def _await_nonce(rpc: RpcClient, address: str, nonce: int, p: PaymentParameters) -> bool:
    deadline = time.monotonic() + p.confirm_timeout_s
    while acc.nonce_of(rpc, address, "latest") < nonce:
        if time.monotonic() >= deadline:
            return False
        time.sleep(p.poll_interval_s)
    return True


def _rollback(ctx: _Context, wallet, nonces, p: PaymentParameters, rec: Recorder) -> str | None:
    sender = wallet[0]
    nonce = acc.nonce_of(ctx.rpc, sender.address)
    deploy = acc.sign(
        sender,
        nonce=nonce,
        chain_id=ctx.chain,
        gas_price=ctx.price,
        to=None,
        gas=300_000,
        data=contracts.bytecode("RevertingPayee"),
    )
    acc.send_raw(ctx.rpc, deploy)
    receipt = _await_receipt(ctx.rpc, deploy.hash, p)
    if receipt is not None:
        _charge(ctx, receipt, ctx.price)
    if not acc.succeeded(receipt) or not receipt.get("contractAddress"):
        rec.check(
            "rollback",
            None,
            "the reverting payee could not be deployed",
            message=f"not judged: the reverting probe contract {deploy.hash} was not deployed",
            receipt=receipt,
        )
        return None
    payee = receipt["contractAddress"]
    watched = [a.address for a in wallet] + [payee]
    before = acc.balances(ctx.rpc, watched)
    payment = acc.sign(
        sender,
        nonce=nonce + 1,
        chain_id=ctx.chain,
        gas_price=ctx.price,
        to=payee,
        value=p.transfer_wei,
        gas=100_000,
    )
    told: dict = {}
    try:
        acc.send_raw(ctx.rpc, payment)
    except RpcError as exc:
        told["refused_at_submission"] = exc.message
    receipt = _await_receipt(ctx.rpc, payment.hash, p)
    fee = 0
    if receipt is not None:
        fee = acc.fee_paid(receipt, ctx.price, ctx.rpc.endpoint)
        _charge(ctx, receipt, ctx.price)
        told["receipt_status"] = receipt.get("status")
    nonces[sender.address] = nonce + (2 if receipt is not None else 1)
    after = acc.balances(ctx.rpc, watched)
    expected = dict(before)
    expected[sender.address] -= fee
    changed = {
        a: {"before": str(before[a]), "after": str(after[a]), "expected": str(expected[a])}
        for a in watched
        if after[a] != expected[a]
    }
    failed_visibly = "refused_at_submission" in told or (
        receipt is not None and not acc.succeeded(receipt)
    )
    rec.result.metrics["rollback"] = {"payee": payee, "fee_wei": str(fee), **told}
    problems = []
    if not failed_visibly:
        problems.append(
            f"the payment {payment.hash} to the reverting contract {payee} was not reported "
            f"as failed (receipt status {told.get('receipt_status')!r})"
        )
    problems += [
        f"{a} {'(the payee) ' if a == payee else ''}holds {int(c['after']) - int(c['expected']):+d}"
        f" wei against what it should ({c['expected']} wei)"
        for a, c in changed.items()
    ]
    rec.check(
        "rollback",
        not problems,
        "a failing payment changes no balance but the sender's gas, and the sender is told",
        message=(
            "; ".join(problems)
            if problems
            else f"the failing payment {payment.hash} was refused or reverted and moved no "
            f"value: the sender paid {fee} wei of gas only"
        ),
        payee=payee,
        transaction=payment.hash,
        sender_told=told,
        gas_fee_wei=str(fee),
        unexpected_changes=changed,
    )
    return payee
