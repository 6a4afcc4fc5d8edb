"""Clearing suite: how much load does the chain clear, and where does it saturate?

Open-loop, stepped-rate load. For each rate in ``rates`` (transactions per second, for
``step_seconds`` each) the suite guarantees that:

- every transaction is signed, and its HTTP request serialised, before the timed phase
  (``rawtx.LegacySigner``, byte for byte what ``eth_account`` signs), so signing never
  slows the generator;
- transactions are sent on a fixed schedule, whatever the node does (open loop): one
  scheduler coroutine sleeps until the next transaction is due and writes every
  transaction due by then through ``sender.RawTxSender`` (a few pipelined keep-alive
  HTTP/1.1 connections, behind the same guard as every engine request); each latency is
  measured from the transaction's *scheduled* send time into an HdrHistogram, so a slow
  node cannot hide its delay (no coordinated omission);
- the generator's own lag (how late it woke for a scheduled send) is measured for every
  transaction; a step whose p99 lag exceeds ``max_generator_lag_s`` is declared invalid,
  not a result;
- confirmations are detected per block by ``watcher.BlockWatcher`` on its own thread (each
  new block's transactions are matched against the step's hashes, and their receipts are
  read in batches), never by polling each transaction, and never on the sender's loop;
  every time is on ``time.monotonic``;
- only transactions with a successful receipt count as confirmed; failed ones, refused
  ones (the node's error, counted by message in ``send_errors``), ones never sent (their
  account's earlier transaction was refused, or no connection was open) and ones never
  seen in a block (``unconfirmed``) are counted separately;
- each test account has one transaction in flight at a time, over many funded accounts
  (``accounts``, by default enough for the highest rate with ``in_flight_window_s``);
  a send that must wait for its account still counts its latency from the schedule, and
  one that waited ``confirm_timeout_s`` goes anyway.

Per step: offered, accepted and confirmed rates, latency percentiles, generator lag, the
generator's CPU seconds (signing, timed phase). A valid step is *sustained* when at least
``min_confirmed_ratio`` of the offered transactions are confirmed and p99 latency is within
``max_p99_latency_s``; the saturation point is the highest sustained rate before the first
valid step that is not. With ``transaction_log``, ``charts["transactions"]`` holds, per
step, every transaction's hash, scheduled, sent and seen times (seconds from the step's
``origin`` on the monotonic clock) and final state.

Checks: ``generator_valid`` (every step's generator kept its schedule; an instrument check:
the generator is the engine's, so when it falls behind the suite is invalid, not failed),
``sustained_throughput`` (only with ``min_sustained_tps``; not judged when the generator
fell behind before the chain saturated), ``all_confirmed`` (nothing unconfirmed in
sustained steps; not judged without one). When the faucet's funding transactions are not
mined (no block produced: the message names the height and the time of the last block) or
revert, the suite records a failed ``funding`` check and returns instead of raising.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from eth_account import Account

from .. import accounts as acc
from .. import contracts, rawtx
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
from ..rpc import quantity
from ..sender import IDLE_REFRESH_S, RawTxSender
from ..stats import LatencyHistogram
from ..watcher import BlockWatcher, Settled
from ..wire import LeanRpcClient, PreparedRequest, encode_request
from .common import client, head

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
    connections: int = 4
    """Keep-alive HTTP connections the sender pipelines its requests over."""
    transaction_log: bool = False
    """Add every transaction's hash and times to ``charts["transactions"]``."""

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
        require(1 <= self.connections <= 64, "connections: 1-64")

    @property
    def account_count(self) -> int:
        if self.accounts is not None:
            return self.accounts
        return max(2, math.ceil(max(self.rates) * self.in_flight_window_s) + 1)


class _Tx:
    __slots__ = (
        "index",
        "account",
        "signed",
        "request",
        "scheduled",
        "lag",
        "sent_at",
        "seen_at",
        "state",
    )

    def __init__(self, index: int, account: int, signed: acc.SignedTx):
        self.index = index
        self.account = account
        self.signed = signed
        self.request: PreparedRequest | None = None
        self.scheduled = 0.0
        self.lag: float | None = None  # how late the scheduler woke for it
        self.sent_at = 0.0
        self.seen_at = 0.0  # when the block including it was first seen
        self.state = "scheduled"  # sent, refused, not_sent, confirmed, failed


@dataclass
class _Step:
    rate: float
    txs: list[_Tx]
    account_waits: int = 0
    blocks: list[list] = field(default_factory=list)
    fees: int = 0
    first_send: float = 0.0
    send_errors: Counter = field(default_factory=Counter)
    cpu: dict = field(default_factory=dict)


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
    logs: dict[str, dict] = {}
    handed_over: dict[str, int] = {}  # address -> nonce after its last transaction sent
    funded = False
    try:
        rec.progress(0, f"funding {len(wallet)} test accounts from the faucet")
        try:
            acc.fund(
                rpc,
                target.faucet_key,
                [a.address for a in wallet],
                p.fund_wei,
                chain=chain,
                price=price,
                timeout=max(30.0, p.confirm_timeout_s),
            )
        except acc.FundingFailed as exc:
            if not exc.of_the_system:
                raise
            # The chain did not mine (or reverted) the funding: a verdict, not an error.
            rec.check(
                "funding",
                outcome=FAILED,
                message=str(exc),
                description="the faucet's funding transactions are mined and succeed",
                **exc.evidence,
            )
        else:
            funded = True
        call_target = (
            _deploy_target(rpc, wallet[0], chain, price, p)
            if funded and p.workload == "call"
            else None
        )
        signers = [rawtx.LegacySigner(bytes(a.key), a.address, chain) for a in wallet]
        for i, rate in enumerate(p.rates if funded else ()):
            rec.progress(10 + 85 * i / len(p.rates), f"step {i + 1}: {rate:g} tx/s")
            before = time.process_time()
            step = _prepare(rpc, target, signers, rate, price, call_target, p)
            signed = time.process_time()
            _drive(target, step, p, head(rpc))
            step.cpu = {
                "signing": round(signed - before, 3),
                "timed_phase": round(time.process_time() - signed, 3),
            }
            for tx in step.txs:
                if tx.state in ("sent", "confirmed", "failed"):
                    sender = tx.signed.sender
                    handed_over[sender] = max(handed_over.get(sender, 0), tx.signed.nonce + 1)
            summary = _summarise(step, p)
            steps.append(summary)
            if p.transaction_log:
                logs[str(step.rate)] = _transaction_log(step)
            rec.log(
                f"step {rate:g} tx/s: confirmed {summary['confirmed_rate']:.1f} tx/s, "
                f"p99 {summary['latency_s']['p99']} s, "
                f"{'sustained' if summary['sustained'] else 'not sustained'}"
                f"{'' if summary['valid'] else ' (INVALID: generator fell behind)'}"
            )
            for message, count in summary["send_errors"].items():
                rec.log(f"step {rate:g} tx/s: {count} x {message}")
            if p.stop_at_saturation and not (summary["valid"] and summary["sustained"]):
                break
    finally:
        try:
            if p.return_funds:
                faucet = Account.from_key(target.faucet_key).address
                acc.sweep(
                    rpc,
                    wallet,
                    faucet,
                    chain=chain,
                    price=price,
                    timeout=30.0,
                    next_nonces=handed_over,
                )
        except EngineError as exc:
            rec.log(f"could not return the funds: {exc}")
        rpc.close()
    if funded:
        _judge(steps, p, rec)
    if p.transaction_log:
        rec.result.charts["transactions"] = logs
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


def _prepare(rpc, target: Target, signers, rate, price, call_target, p) -> _Step:
    """Sign every transaction of the step, and serialise its request, before it starts."""
    count = max(1, round(rate * p.step_seconds))
    pending = rpc.batch([("eth_getTransactionCount", (s.address, "pending")) for s in signers])
    nonces = [quantity(n, "transaction count", rpc.endpoint) for n in pending]
    endpoint = target.guard().check(target.endpoints[0])
    selector = contracts.call_data("clear(uint256)")
    txs = []
    for j in range(count):
        k = j % len(signers)
        if call_target is None:
            to, data, gas = signers[(k + 1) % len(signers)].address, b"", acc.TRANSFER_GAS
        else:
            to, gas = call_target, CALL_GAS
            data = bytes.fromhex(selector[2:]) + j.to_bytes(32, "big")
        signed = signers[k].sign(nonce=nonces[k], gas_price=price, gas=gas, to=to, data=data)
        nonces[k] += 1
        tx = _Tx(j, k, signed)
        tx.request = encode_request(endpoint, j + 1, "eth_sendRawTransaction", [signed.raw])
        txs.append(tx)
    return _Step(rate=rate, txs=txs)


def _drive(target: Target, step: _Step, p: ClearingParameters, start_head: int) -> None:
    """The timed phase, with the collector paused for the objects made before it."""
    gc.freeze()
    try:
        asyncio.run(_TimedPhase(target, step, p).run(start_head))
    finally:
        gc.unfreeze()


class _TimedPhase:
    """Schedules, sends and settles one step's transactions on one event loop.

    The scheduler is one coroutine that sleeps until the next transaction is due and then
    writes every transaction due by then (no task per transaction). The block watcher
    runs on its own thread and hands confirmations to this loop. Transactions are the
    loop's alone: the sender's answers and the watcher's confirmations both change them
    on this loop.
    """

    def __init__(self, target: Target, step: _Step, p: ClearingParameters):
        self.target = target
        self.step = step
        self.p = p
        self.by_hash = {t.signed.hash.lower(): t for t in step.txs}
        self.busy: dict[int, _Tx] = {}  # account -> its transaction in flight
        self.gapped: set[int] = set()  # accounts with a transaction refused or not sent
        self.waiting: dict[int, deque[_Tx]] = {}  # account -> transactions waiting for it
        self.waits: deque[tuple[float, _Tx]] = deque()  # (give up waiting at, transaction)
        self.in_flight = 0  # sent, not yet confirmed, failed or refused
        self.settled: deque[list[Settled]] = deque()
        self.sender: RawTxSender | None = None

    async def run(self, start_head: int) -> None:
        loop = asyncio.get_running_loop()
        self.sender = RawTxSender(
            self.target.endpoints[0],
            allowed=self.target.guard(),
            on_answer=self.answered,
            connections=self.p.connections,
            timeout=self.target.timeout,
        )

        def deliver(items: list[Settled]) -> None:  # on the watcher's thread
            self.settled.append(items)
            loop.call_soon_threadsafe(self.drain)

        watcher_rpc = LeanRpcClient(
            self.target.endpoints[0],
            allowed=self.target.guard(),
            timeout=self.target.timeout,
            read_retries=1,
        )
        watcher = BlockWatcher(
            watcher_rpc,
            {h: t.signed.gas_price for h, t in self.by_hash.items()},
            start_head,
            deliver,
            poll_s=self.p.block_poll_s,
        )
        try:
            await self.sender.open()
            watcher.start()
            try:
                await self.schedule()
                await self.finish()
            finally:
                watcher.stop()
                self.drain()
                self.step.blocks = watcher.blocks
        finally:
            await self.sender.close()
            watcher_rpc.close()

    async def schedule(self) -> None:
        txs, n = self.step.txs, len(self.step.txs)
        clock = time.monotonic
        t0 = clock() + 0.2
        self.step.first_send = t0
        interval = 1.0 / self.step.rate
        for j, tx in enumerate(txs):
            tx.scheduled = t0 + j * interval
        i = 0
        while i < n:
            now = clock()
            due_at = txs[i].scheduled
            if due_at > now:
                self.housekeeping(now)
                if due_at - now > 2 * IDLE_REFRESH_S:
                    # A slow load: reopen idle connections shortly before the next send.
                    await asyncio.sleep(due_at - now - IDLE_REFRESH_S)
                    await self.sender.refresh()
                    continue
                await asyncio.sleep(due_at - now)
                continue
            due = []
            while i < n and txs[i].scheduled <= now:
                tx = txs[i]
                i += 1
                tx.lag = now - tx.scheduled
                if tx.account in self.gapped:
                    # A nonce before this one was never taken: it could never be mined.
                    tx.state = "not_sent"
                elif tx.account in self.busy:
                    self.step.account_waits += 1
                    self.waiting.setdefault(tx.account, deque()).append(tx)
                    self.waits.append((now + self.p.confirm_timeout_s, tx))
                else:
                    self.busy[tx.account] = tx
                    due.append(tx)
            if due:
                self.dispatch(due, now)

    async def finish(self) -> None:
        """Wait for the deferred sends and the answers, then for the confirmations."""
        clock = time.monotonic
        while self.waits or self.sender.outstanding:
            self.housekeeping(clock())
            await asyncio.sleep(0.01)
        deadline = clock() + self.p.confirm_timeout_s
        while self.in_flight and clock() < deadline:
            self.housekeeping(clock())
            await asyncio.sleep(0.05)

    def housekeeping(self, now: float) -> None:
        self.sender.expire(now)
        waits = self.waits
        while waits and (waits[0][0] <= now or waits[0][1].state != "scheduled"):
            _, tx = waits.popleft()
            if tx.state != "scheduled":
                continue
            # Its account's previous transaction is still unconfirmed: send it anyway.
            self.waiting[tx.account].remove(tx)
            self.busy[tx.account] = tx
            self.dispatch([tx], now)

    def dispatch(self, txs: list[_Tx], now: float) -> None:
        for tx in txs:
            tx.sent_at = now
            tx.state = "sent"
        self.in_flight += len(txs)
        unsent = self.sender.send([(tx.request, tx) for tx in txs])
        for tx in unsent:
            tx.sent_at = 0.0
            tx.state = "not_sent"
            self.in_flight -= 1
            self.step.send_errors["not sent: no connection to the node"] += 1
            self.release(tx, time.monotonic())

    def answered(self, tx: _Tx, outcome) -> None:
        if isinstance(outcome, RpcError):
            self.step.send_errors[f"refused: [{outcome.code}] {outcome.message}"[:200]] += 1
            if tx.state == "sent":
                tx.state = "refused"
                self.in_flight -= 1
                self.release(tx, time.monotonic())
        elif isinstance(outcome, EngineError):
            # No answer: the transaction may or may not have reached the node; the block
            # watcher decides, and otherwise it ends as unconfirmed.
            reason = getattr(outcome, "reason", str(outcome))
            self.step.send_errors[f"no answer: {reason}"[:200]] += 1

    def drain(self) -> None:
        """Apply the confirmations the watcher handed over."""
        now = time.monotonic()
        while self.settled:
            for key, seen, ok, fee in self.settled.popleft():
                tx = self.by_hash.get(key)
                if tx is None or tx.state != "sent":
                    continue
                self.step.fees += fee
                tx.seen_at = seen
                tx.state = "confirmed" if ok else "failed"
                self.in_flight -= 1
                self.release(tx, now)

    def release(self, tx: _Tx, now: float) -> None:
        """``tx`` is done: its account may send the next transaction waiting for it."""
        if self.busy.get(tx.account) is not tx:
            return
        del self.busy[tx.account]
        queue = self.waiting.get(tx.account)
        if tx.state in ("refused", "not_sent"):
            # The account's nonce sequence has a gap: nothing after it could be mined.
            self.gapped.add(tx.account)
            while queue:
                queue.popleft().state = "not_sent"
        elif queue:
            nxt = queue.popleft()
            self.busy[tx.account] = nxt
            self.dispatch([nxt], now)


def _transaction_log(step: _Step) -> dict:
    origin = step.first_send

    def offset(t: float) -> float | None:
        return round(t - origin, 6) if t else None

    return {
        "clock": "monotonic",
        "origin": origin,
        "fields": ["hash", "scheduled", "sent", "seen", "state"],
        "rows": [
            [
                t.signed.hash,
                offset(t.scheduled),
                offset(t.sent_at),
                offset(t.seen_at),
                "unconfirmed" if t.state in ("sent", "scheduled") else t.state,
            ]
            for t in step.txs
        ],
    }


def _summarise(step: _Step, p: ClearingParameters) -> dict:
    counts = dict.fromkeys(("confirmed", "failed", "refused", "not_sent", "unconfirmed"), 0)
    latency, lag = LatencyHistogram(), LatencyHistogram()
    last_confirm = step.first_send
    for tx in step.txs:
        counts["unconfirmed" if tx.state in ("sent", "scheduled") else tx.state] += 1
        if tx.lag is not None:
            lag.record(tx.lag)
        if tx.state == "confirmed":
            latency.record(tx.seen_at - tx.scheduled)
            last_confirm = max(last_confirm, tx.seen_at)
    offered = len(step.txs)
    accepted = offered - counts["refused"] - counts["not_sent"]
    window = p.step_seconds
    confirm_window = max(window, last_confirm - step.first_send) if counts["confirmed"] else window
    latency_s = latency.summary()
    lag_s = lag.summary()
    valid = lag_s["p99"] is not None and lag_s["p99"] <= p.max_generator_lag_s
    ratio = counts["confirmed"] / offered
    sustained = (
        valid
        and ratio >= p.min_confirmed_ratio
        and latency_s["p99"] is not None
        and latency_s["p99"] <= p.max_p99_latency_s
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
        "latency_s": latency_s,
        "generator_lag_s": lag_s,
        "account_waits": step.account_waits,
        "fees_wei": str(step.fees),
        "send_errors": dict(step.send_errors.most_common(10)),
        "generator_cpu_s": step.cpu,
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
    lags = {str(s["rate"]): s["generator_lag_s"]["p99"] for s in steps}
    # The generator is the engine's own instrument: when it falls behind its schedule the
    # step measured the engine, not the chain, so the suite is invalid, never failed.
    rec.check(
        "generator_valid",
        outcome=(FAILED if invalid else PASSED) if steps else NOT_JUDGED,
        message=_generator_message(steps, invalid, p),
        description=(
            f"the engine's load generator kept its schedule (p99 lag <= "
            f"{p.max_generator_lag_s:g} s) in every step"
        ),
        instrument=True,
        invalid_steps=invalid,
        lags=lags,
    )
    judged = [s for s in steps if s["sustained"]]
    lost = {str(s["rate"]): s["unconfirmed"] for s in judged if s["unconfirmed"]}
    if not judged:
        outcome, message = NOT_JUDGED, "no step was sustained, so none was judged"
    elif lost:
        outcome = FAILED
        message = "; ".join(
            f"{count} transactions of the sustained {rate} tx/s step were never confirmed"
            for rate, count in lost.items()
        )
    else:
        outcome, message = PASSED, f"every transaction of {len(judged)} sustained steps confirmed"
    rec.check(
        "all_confirmed",
        outcome=outcome,
        message=message,
        description="every transaction of a sustained step was confirmed",
        unconfirmed=lost,
    )
    if p.min_sustained_tps is not None:
        best = max(sustained_rates, default=0.0)
        outcome = PASSED if best >= p.min_sustained_tps else FAILED
        message = (
            f"{best:g} tx/s confirmed in the best sustained step, "
            f"{'at or above' if outcome == PASSED else 'below'} the {p.min_sustained_tps:g} "
            f"tx/s bound"
        )
        if outcome == FAILED and "generator_limit_rate" in saturation:
            # The engine stopped before the chain did: the chain's limit was never reached.
            outcome = NOT_JUDGED
            message = (
                f"not judged: the load generator fell behind at "
                f"{saturation['generator_limit_rate']:g} tx/s before the chain saturated "
                f"({best:g} tx/s sustained until then)"
            )
        rec.check(
            "sustained_throughput",
            outcome=outcome,
            message=message,
            description=f"at least {p.min_sustained_tps:g} tx/s confirmed in a sustained step",
            max_sustained_confirmed_tps=best,
            bound=p.min_sustained_tps,
        )


def _generator_message(steps: list[dict], invalid: list[float], p: ClearingParameters) -> str:
    if not steps:
        return "no step ran, so the load generator was not measured"
    if not invalid:
        worst = max((s["generator_lag_s"]["p99"] or 0.0) for s in steps)
        return (
            f"the load generator kept its schedule: p99 lag at most {worst:.3f} s "
            f"(budget {p.max_generator_lag_s:.3f} s)"
        )
    late = ", ".join(
        f"p99 lag {s['generator_lag_s']['p99'] or 0.0:.3f} s at {s['rate']:g} tx/s"
        for s in steps
        if not s["valid"]
    )
    return (
        f"the engine's load generator fell behind its schedule ({late}; budget "
        f"{p.max_generator_lag_s:.3f} s): the step measured the engine, not the chain"
    )
