"""Clearing suite: how much load does the chain clear, and where does it saturate?

Open-loop, stepped-rate load. For each rate in ``rates`` (transactions per second, for
``step_seconds`` each) the suite guarantees that:

- every transaction is signed before the timed phase (``eth_account``), so signing never
  slows the generator;
- transactions are sent on a fixed schedule by asyncio, whatever the node does (open
  loop), and each latency is measured from the transaction's *scheduled* send time into
  an HdrHistogram, so a slow node cannot hide its delay (no coordinated omission);
- the generator's own lag (how late it woke for a scheduled send) is measured; a step
  whose p99 lag exceeds ``max_generator_lag_s`` is declared invalid, not a result;
- confirmations are detected per block (each new block's transactions are matched
  against the step's hashes, and their receipts are read in one batch), never by
  polling each transaction;
- only transactions with a successful receipt count as confirmed; failed ones, refused
  ones and ones never seen in a block (``unconfirmed``) are counted separately;
- each test account has one transaction in flight at a time, over many funded accounts
  (``accounts``, by default enough for the highest rate with ``in_flight_window_s``);
  a send that must wait for its account still counts its latency from the schedule.

Per step: offered, accepted and confirmed rates, latency percentiles, generator lag. A
valid step is *sustained* when at least ``min_confirmed_ratio`` of the offered
transactions are confirmed and p99 latency is within ``max_p99_latency_s``; the
saturation point is the highest sustained rate before the first valid step that is not.

Checks: ``generator_valid`` (every step's generator kept its schedule),
``sustained_throughput`` (only with ``min_sustained_tps``), ``all_confirmed`` (nothing
unconfirmed in sustained steps).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field

from eth_account import Account

from .. import accounts as acc
from .. import contracts
from ..errors import EngineError, InvalidParameters, RpcError
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import AsyncRpcClient, quantity
from ..stats import LatencyHistogram
from .common import async_client, client

CALL_GAS = 120_000


@dataclass(frozen=True)
class ClearingParameters:
    rates: tuple[float, ...] = (10.0, 20.0, 50.0, 100.0, 200.0)
    """Offered load of each step, in transactions per second, in increasing order."""
    step_seconds: float = 10.0
    """Duration of each step's sending phase."""
    workload: str = "transfer"
    """"transfer" (value transfers) or "call" (calls to the CallTarget contract)."""
    accounts: int | None = None
    """Test accounts; None: enough for the highest rate over ``in_flight_window_s``."""
    in_flight_window_s: float = 4.0
    """How long one account's transaction may stay in flight before it is needed again."""
    fund_wei: int = 10**16
    """Wei the faucet gives each test account."""
    max_p99_latency_s: float = 2.0
    """A step is sustained only if its p99 confirmation latency is within this."""
    min_confirmed_ratio: float = 0.95
    """A step is sustained only if this share of its offered transactions is confirmed."""
    max_generator_lag_s: float = 0.05
    """A step whose generator p99 lag exceeds this is invalid."""
    min_sustained_tps: float | None = None
    """Pass criterion on the saturation point; None reports it without judging it."""
    confirm_timeout_s: float = 15.0
    """Wait after a step's last send before the rest counts as unconfirmed."""
    block_poll_s: float = 0.05
    """How often the head is read to detect new blocks."""
    stop_at_saturation: bool = True
    """Stop stepping once a step is not sustained (or is invalid)."""
    gas_price_multiplier: float = 2.0
    """Gas price paid, as a multiple of the node's eth_gasPrice."""
    return_funds: bool = True
    """Send what is left back to the faucet at the end."""

    def validate(self) -> None:
        require(len(self.rates) >= 1, "rates needs at least one step")
        require(all(r > 0 for r in self.rates), "every rate must be positive")
        require(list(self.rates) == sorted(self.rates), "rates must increase")
        require(0 < self.step_seconds <= 3600, "step_seconds must be 0-3600")
        require(self.workload in ("transfer", "call"), "workload must be transfer or call")
        require(self.accounts is None or 1 <= self.accounts <= 20_000, "accounts: 1-20000")
        require(self.in_flight_window_s > 0, "in_flight_window_s must be positive")
        require(max(self.rates) * self.step_seconds <= 1_000_000, "too many transactions")
        require(0 < self.min_confirmed_ratio <= 1, "min_confirmed_ratio must be in (0, 1]")
        require(self.max_generator_lag_s > 0, "max_generator_lag_s must be positive")
        require(self.confirm_timeout_s > 0 and self.block_poll_s > 0, "timeouts must be positive")
        require(self.gas_price_multiplier >= 1, "gas_price_multiplier must be at least 1")

    @property
    def account_count(self) -> int:
        if self.accounts is not None:
            return self.accounts
        return max(2, math.ceil(max(self.rates) * self.in_flight_window_s) + 1)


@dataclass
class _Tx:
    index: int
    account: int
    signed: acc.SignedTx
    scheduled: float = 0.0
    sent_at: float = 0.0
    seen_at: float = 0.0  # when the block including it was first seen
    state: str = "scheduled"  # sent, refused, not_sent, confirmed, failed
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Step:
    rate: float
    txs: list[_Tx]
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    account_waits: int = 0
    blocks: list[list] = field(default_factory=list)
    fees: int = 0
    awaiting_receipt: list[_Tx] = field(default_factory=list)
    first_send: float = 0.0
    last_confirm: float = 0.0


def run(
    target: Target,
    parameters: dict | ClearingParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the clearing suite against ``target.endpoints[0]``; see the module docstring."""
    p = parse_parameters(ClearingParameters, parameters)
    if not target.faucet_key:
        raise InvalidParameters("the clearing suite needs a faucet key to fund its test accounts")
    rec = Recorder("clearing", target, p, progress)
    wallet = acc.new_accounts(p.account_count)
    rpc = client(target)
    chain = acc.chain_id(rpc)
    price = acc.gas_price(rpc, p.gas_price_multiplier)
    steps: list[dict] = []
    try:
        rec.progress(0, f"funding {len(wallet)} test accounts from the faucet")
        acc.fund(
            rpc,
            target.faucet_key,
            [a.address for a in wallet],
            p.fund_wei,
            chain=chain,
            price=price,
            timeout=max(30.0, p.confirm_timeout_s),
        )
        call_target = (
            _deploy_target(rpc, wallet[0], chain, price, p) if p.workload == "call" else None
        )
        for i, rate in enumerate(p.rates):
            rec.progress(10 + 85 * i / len(p.rates), f"step {i + 1}: {rate:g} tx/s")
            step = _prepare(rpc, wallet, rate, chain, price, call_target, p)
            asyncio.run(_drive(target, step, p))
            summary = _summarise(step, p)
            steps.append(summary)
            rec.log(
                f"step {rate:g} tx/s: confirmed {summary['confirmed_rate']:.1f} tx/s, "
                f"p99 {summary['latency_s']['p99']} s, "
                f"{'sustained' if summary['sustained'] else 'not sustained'}"
                f"{'' if summary['valid'] else ' (INVALID: generator fell behind)'}"
            )
            if p.stop_at_saturation and not (summary["valid"] and summary["sustained"]):
                break
    finally:
        try:
            if p.return_funds:
                faucet = Account.from_key(target.faucet_key).address
                acc.sweep(rpc, wallet, faucet, chain=chain, price=price, timeout=30.0)
        except EngineError as exc:
            rec.log(f"could not return the funds: {exc}")
        rpc.close()
    _judge(steps, p, rec)
    return rec.finish()


def _deploy_target(rpc, deployer, chain, price, p: ClearingParameters) -> str:
    tx = acc.sign(
        deployer,
        nonce=acc.nonce_of(rpc, deployer.address),
        chain_id=chain,
        gas_price=price,
        to=None,
        gas=500_000,
        data=contracts.bytecode("CallTarget"),
    )
    acc.send_raw(rpc, tx)
    receipt = acc.wait_receipts(rpc, [tx.hash], p.confirm_timeout_s)[tx.hash]
    if not acc.succeeded(receipt):
        raise EngineError("the CallTarget contract could not be deployed")
    return receipt["contractAddress"]


def _prepare(rpc, wallet, rate, chain, price, call_target, p: ClearingParameters) -> _Step:
    """Sign every transaction of the step before it starts."""
    count = max(1, round(rate * p.step_seconds))
    pending = rpc.batch([("eth_getTransactionCount", (a.address, "pending")) for a in wallet])
    nonces = [quantity(n, "transaction count", rpc.endpoint) for n in pending]
    txs = []
    for j in range(count):
        k = j % len(wallet)
        account = wallet[k]
        if call_target is None:
            to, data, gas = wallet[(k + 1) % len(wallet)].address, b"", acc.TRANSFER_GAS
        else:
            to, data, gas = call_target, contracts.call_data("clear(uint256)", j), CALL_GAS
        signed = acc.sign(
            account,
            nonce=nonces[k],
            chain_id=chain,
            gas_price=price,
            to=to,
            value=0,
            gas=gas,
            data=data,
        )
        nonces[k] += 1
        txs.append(_Tx(index=j, account=k, signed=signed))
    return _Step(rate=rate, txs=txs)


async def _drive(target: Target, step: _Step, p: ClearingParameters) -> None:
    """The timed phase: schedule, send, watch blocks, until confirmed or timed out."""
    by_hash = {t.signed.hash: t for t in step.txs}
    last_of_account: dict[int, _Tx] = {}
    stop = asyncio.Event()
    async with (
        async_client(target, max_connections=128, read_retries=1) as sender,
        async_client(target) as watcher,
    ):
        loop = asyncio.get_running_loop()
        start_head = quantity(await watcher.call("eth_blockNumber"), "eth_blockNumber", "")
        watch = asyncio.create_task(_watch(watcher, step, by_hash, start_head, stop, p))
        t0 = loop.time() + 0.2
        step.first_send = t0
        sends = []
        for j, tx in enumerate(step.txs):
            tx.scheduled = t0 + j / step.rate
            delay = tx.scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            step.lag.record(max(0.0, loop.time() - tx.scheduled))
            previous = last_of_account.get(tx.account)
            last_of_account[tx.account] = tx
            sends.append(asyncio.create_task(_send(sender, tx, previous, step, p)))
        await asyncio.gather(*sends)
        deadline = loop.time() + p.confirm_timeout_s
        outstanding = [t.done.wait() for t in step.txs if t.state == "sent"]
        if outstanding:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*outstanding), deadline - loop.time())
        stop.set()
        await watch


async def _send(rpc: AsyncRpcClient, tx: _Tx, previous: _Tx | None, step: _Step, p) -> None:
    loop = asyncio.get_running_loop()
    if previous is not None:
        if not previous.done.is_set():
            step.account_waits += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(previous.done.wait(), p.confirm_timeout_s)
        if previous.state in ("refused", "not_sent"):
            # The account's nonce sequence has a gap: this one could never be mined.
            tx.state = "not_sent"
            tx.done.set()
            return
    tx.sent_at = loop.time()
    tx.state = "sent"
    try:
        await rpc.call("eth_sendRawTransaction", tx.signed.raw)
    except RpcError:
        if tx.state == "sent":
            tx.state = "refused"
            tx.done.set()
    except EngineError:
        # No answer: the transaction may or may not have reached the node; the block
        # watcher decides, and otherwise it ends as unconfirmed.
        pass


async def _watch(rpc: AsyncRpcClient, step: _Step, by_hash, seen_head, stop, p) -> None:
    """Detect confirmations per block: match each new block's transactions to the step."""
    loop = asyncio.get_running_loop()
    while True:
        stopping = stop.is_set()
        try:
            now_head = quantity(await rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)
            if now_head > seen_head:
                heights = list(range(seen_head + 1, now_head + 1))
                blocks = await rpc.batch(
                    [("eth_getBlockByNumber", (hex(h), False)) for h in heights]
                )
                observed = loop.time()
                for h, block in zip(heights, blocks, strict=True):
                    if block is None:
                        raise EngineError(f"block {h} is missing")
                    await _confirm(rpc, step, by_hash, h, block, observed)
                seen_head = now_head
        except EngineError:
            pass  # a missed poll is retried at the next one
        if stopping:
            return
        await asyncio.sleep(p.block_poll_s)


async def _confirm(rpc, step: _Step, by_hash, height, block, observed) -> None:
    hashes = [h for h in block.get("transactions", []) if isinstance(h, str)]
    ours = [by_hash[h] for h in hashes if h in by_hash and not by_hash[h].done.is_set()]
    step.blocks.append([height, len(hashes), len(ours)])
    for tx in ours:
        if not tx.seen_at:
            tx.seen_at = observed
            step.awaiting_receipt.append(tx)
    waiting = [t for t in step.awaiting_receipt if not t.done.is_set()]
    step.awaiting_receipt = waiting
    if not waiting:
        return
    receipts = await rpc.batch(
        [("eth_getTransactionReceipt", (t.signed.hash,)) for t in waiting], raise_errors=False
    )
    for tx, receipt in zip(waiting, receipts, strict=True):
        if not isinstance(receipt, dict):
            continue  # in a block but its receipt not served yet: asked again next block
        step.fees += acc.fee_paid(receipt, tx.signed.gas_price, rpc.endpoint)
        if acc.succeeded(receipt):
            tx.state = "confirmed"
            step.latency.record(tx.seen_at - tx.scheduled)
            step.last_confirm = max(step.last_confirm, tx.seen_at)
        else:
            tx.state = "failed"
        tx.done.set()


def _summarise(step: _Step, p: ClearingParameters) -> dict:
    counts = dict.fromkeys(("confirmed", "failed", "refused", "not_sent", "unconfirmed"), 0)
    for tx in step.txs:
        counts["unconfirmed" if tx.state in ("sent", "scheduled") else tx.state] += 1
    offered = len(step.txs)
    accepted = offered - counts["refused"] - counts["not_sent"]
    window = p.step_seconds
    confirm_window = (
        max(window, step.last_confirm - step.first_send) if counts["confirmed"] else window
    )
    latency = step.latency.summary()
    lag = step.lag.summary()
    valid = lag["p99"] is not None and lag["p99"] <= p.max_generator_lag_s
    ratio = counts["confirmed"] / offered
    sustained = (
        valid
        and ratio >= p.min_confirmed_ratio
        and latency["p99"] is not None
        and latency["p99"] <= p.max_p99_latency_s
    )
    return {
        "rate": step.rate,
        "offered": offered,
        "offered_rate": round(offered / window, 3),
        "accepted": accepted,
        "accepted_rate": round(accepted / window, 3),
        "confirmed_rate": round(counts["confirmed"] / confirm_window, 3),
        "confirmed_ratio": round(ratio, 4),
        **counts,
        "latency_s": latency,
        "generator_lag_s": lag,
        "account_waits": step.account_waits,
        "fees_wei": str(step.fees),
        "valid": valid,
        "sustained": sustained,
        "blocks": step.blocks,
    }


def _judge(steps: list[dict], p: ClearingParameters, rec: Recorder) -> None:
    sustained_rates = []
    saturation = {"reached": False, "max_sustained_rate": None, "first_unsustained_rate": None}
    for s in steps:
        if not s["valid"]:
            saturation["generator_limit_rate"] = s["rate"]
            break
        if s["sustained"]:
            sustained_rates.append(s["confirmed_rate"])
            saturation["max_sustained_rate"] = s["rate"]
            saturation["max_sustained_confirmed_tps"] = s["confirmed_rate"]
        else:
            saturation.update(reached=True, first_unsustained_rate=s["rate"])
            break
    rec.result.metrics.update(
        {
            "accounts": p.account_count,
            "workload": p.workload,
            "steps": [{k: v for k, v in s.items() if k != "blocks"} for s in steps],
            "saturation": saturation,
        }
    )
    rec.result.charts.update(
        {
            "rates": [
                [s["rate"], s["offered_rate"], s["accepted_rate"], s["confirmed_rate"]]
                for s in steps
            ],
            "latency_s": [
                [s["rate"], s["latency_s"]["p50"], s["latency_s"]["p99"], s["latency_s"]["max"]]
                for s in steps
            ],
            "blocks": {str(s["rate"]): s["blocks"] for s in steps},
        }
    )
    invalid = [s["rate"] for s in steps if not s["valid"]]
    rec.check(
        "generator_valid",
        not invalid,
        f"the generator kept its schedule (p99 lag <= {p.max_generator_lag_s:g} s) in every step",
        invalid_steps=invalid,
        lags={str(s["rate"]): s["generator_lag_s"]["p99"] for s in steps},
    )
    lost = {str(s["rate"]): s["unconfirmed"] for s in steps if s["sustained"] and s["unconfirmed"]}
    rec.check(
        "all_confirmed",
        not lost,
        "every transaction of a sustained step was confirmed",
        unconfirmed=lost,
    )
    if p.min_sustained_tps is not None:
        best = max(sustained_rates, default=0.0)
        rec.check(
            "sustained_throughput",
            best >= p.min_sustained_tps,
            f"at least {p.min_sustained_tps:g} tx/s confirmed in a sustained step",
            max_sustained_confirmed_tps=best,
            bound=p.min_sustained_tps,
        )
