"""Payment suite: are payments fast, final, never doubled, rolled back when they fail?

Creates ``accounts`` fresh test accounts, funds them from the target's faucet, and then
guarantees these checks:

- ``receipt_latency``: the p99 of submit-to-receipt latency of ``transfers`` transfers
  (sent round-robin to the target's endpoints, one in flight per account) is at most
  ``max_p99_latency_s`` (default 1 s); every transfer succeeded;
- ``finality_latency`` (only with ``max_p99_finality_s``): the p99 of submit-to-finality
  latency (the including block ``finality_depth`` - 1 blocks under the head) is at most that;
- ``double_spend``: of two conflicting transactions with one nonce, sent at the same moment
  (to two endpoints when the target has two), at most one is ever included, also after
  ``double_spend_observe_blocks`` more blocks;
- ``rollback``: a payment to a contract that reverts fails, the sender is told (a failed
  receipt or a refusal), and every balance is unchanged but for the gas the sender paid;
- ``value_conservation``: the test accounts (and the probe contract) hold exactly what was
  funded minus the fees their receipts show.

What is left is returned to the faucet afterwards (``return_funds``).
"""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from eth_account import Account

from .. import accounts as acc
from .. import contracts
from ..errors import EngineError, InvalidParameters, RpcError
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import RpcClient, quantity
from ..stats import LatencyHistogram
from .common import client, head

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class PaymentParameters:
    accounts: int = 4
    """Test accounts created and funded; also the number of transfers in flight at once."""
    fund_wei: int = 10**17
    """Wei the faucet gives each test account."""
    transfers: int = 50
    """Transfers whose latency is measured."""
    transfer_wei: int = 1000
    """Value of each transfer."""
    max_p99_latency_s: float = 1.0
    """Pass criterion: p99 submit-to-receipt latency, in seconds."""
    spread_s: float = 1.0
    """Each transfer first waits a random 0..spread_s, so submissions fall at random points
    of the block interval rather than just after the block that confirmed the last one."""
    finality_depth: int = 1
    """Confirmations that make a payment final (1: the including block itself)."""
    max_p99_finality_s: float | None = None
    """Pass criterion for the p99 submit-to-finality latency; None reports it only."""
    poll_interval_s: float = 0.01
    """How often a receipt or the head is read while waiting (the latency resolution)."""
    confirm_timeout_s: float = 30.0
    """How long a payment may take before it is counted as unconfirmed."""
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
        require(self.max_p99_latency_s > 0, "max_p99_latency_s must be positive")
        require(0 <= self.spread_s <= 60, "spread_s must be between 0 and 60")
        require(self.finality_depth >= 1, "finality_depth must be at least 1")
        require(self.poll_interval_s > 0, "poll_interval_s must be positive")
        require(self.confirm_timeout_s > 0, "confirm_timeout_s must be positive")
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


def run(
    target: Target,
    parameters: dict | PaymentParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the payment suite; see the module docstring. Needs ``target.faucet_key``."""
    p = parse_parameters(PaymentParameters, parameters)
    if not target.faucet_key:
        raise InvalidParameters("the payment suite needs a faucet key to fund its test accounts")
    rec = Recorder("payment", target, p, progress)
    clients = [client(target, e, max_connections=p.accounts + 4) for e in target.endpoints]
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
        rec.progress(0, f"funding {p.accounts} test accounts from the faucet")
        acc.fund(
            rpc,
            target.faucet_key,
            [a.address for a in wallet],
            p.fund_wei,
            chain=ctx.chain,
            price=ctx.price,
            timeout=p.confirm_timeout_s,
            ledger=ctx.ledger,
        )
        nonces = {a.address: 0 for a in wallet}
        _latency(ctx, wallet, nonces, p, rec)
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
        report = ctx.ledger.conservation(rpc, extra)
        rec.result.metrics["conservation"] = report
        rec.check(
            "value_conservation",
            abs(int(report["difference_wei"])) <= p.conservation_tolerance_wei,
            "the test accounts hold what was funded minus the fees their receipts show",
            **report,
        )
    finally:
        try:
            if p.return_funds:
                returned = acc.sweep(
                    rpc,
                    wallet,
                    Account.from_key(target.faucet_key).address,
                    chain=ctx.chain,
                    price=ctx.price,
                    timeout=p.confirm_timeout_s,
                )
                rec.log(f"returned {returned} wei to the faucet")
        except EngineError as exc:
            rec.log(f"could not return the funds: {exc}")
        for c in clients:
            c.close()
    return rec.finish()


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


def _latency(ctx: _Context, wallet, nonces, p: PaymentParameters, rec: Recorder) -> None:
    receipt_h, final_h = LatencyHistogram(), LatencyHistogram()
    outcomes = {"succeeded": 0, "failed": 0, "refused": 0, "unconfirmed": 0, "not_final": 0}
    series: list[list[float]] = []
    done = [0]
    rec.progress(10, f"sending {p.transfers} transfers, {p.accounts} in flight")

    cancelled = threading.Event()

    def worker(index: int) -> None:
        sender = wallet[index]
        for k in range(index, p.transfers, p.accounts):
            if cancelled.is_set():
                return
            if p.spread_s:
                time.sleep(_random.uniform(0, p.spread_s))
            rpc = ctx.clients[k % len(ctx.clients)]
            to = wallet[(index + 1) % len(wallet)].address
            tx = acc.sign(
                sender,
                nonce=nonces[sender.address],
                chain_id=ctx.chain,
                gas_price=ctx.price,
                to=to,
                value=p.transfer_wei,
            )
            start = time.monotonic()
            try:
                acc.send_raw(rpc, tx)
            except RpcError as exc:
                with ctx.lock:
                    outcomes["refused"] += 1
                rec.log(f"transfer {k} refused: {exc.message}")
                continue
            nonces[sender.address] += 1
            receipt = _await_receipt(rpc, tx.hash, p)
            took = time.monotonic() - start
            if receipt is None:
                with ctx.lock:
                    outcomes["unconfirmed"] += 1
                continue
            _charge(ctx, receipt, ctx.price)
            if not acc.succeeded(receipt):
                with ctx.lock:
                    outcomes["failed"] += 1
                continue
            height = quantity(receipt["blockNumber"], "receipt blockNumber", rpc.endpoint)
            final = _await_height(rpc, height + p.finality_depth - 1, p)
            to_final = time.monotonic() - start
            with ctx.lock:
                outcomes["succeeded"] += 1
                receipt_h.record(took)
                if final:
                    final_h.record(to_final)
                else:
                    outcomes["not_final"] += 1
                series.append([k, round(took, 6)])
                done[0] += 1
                try:
                    rec.progress(10 + 60 * done[0] / max(1, p.transfers))
                except BaseException:
                    cancelled.set()  # the other senders stop at their next transfer
                    raise

    with ThreadPoolExecutor(max_workers=p.accounts) as pool:
        list(pool.map(worker, range(p.accounts)))

    receipt_stats, final_stats = receipt_h.summary(), final_h.summary()
    rec.result.metrics.update(
        {
            "transfers": outcomes,
            "receipt_latency_s": receipt_stats,
            "finality_latency_s": final_stats,
            "finality_depth": p.finality_depth,
        }
    )
    rec.result.charts["receipt_latency_s"] = sorted(series)
    p99 = receipt_stats["p99"]
    all_ok = outcomes["succeeded"] == p.transfers
    rec.check(
        "receipt_latency",
        None if p99 is None else (p99 <= p.max_p99_latency_s and all_ok),
        f"p99 submit-to-receipt latency <= {p.max_p99_latency_s:g} s and every transfer succeeds",
        p99_s=p99,
        bound_s=p.max_p99_latency_s,
        outcomes=outcomes,
    )
    if p.max_p99_finality_s is not None:
        f99 = final_stats["p99"]
        rec.check(
            "finality_latency",
            None if f99 is None else f99 <= p.max_p99_finality_s,
            f"p99 latency to {p.finality_depth} confirmations <= {p.max_p99_finality_s:g} s",
            p99_s=f99,
            bound_s=p.max_p99_finality_s,
        )


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
        receipts = [c.call("eth_getTransactionReceipt", tx.hash) for c in ctx.clients]
        receipt = next((r for r in receipts if r), None)
        if receipt:
            included.append({"tx": tx.hash, "block": receipt.get("blockNumber")})
            _charge(ctx, receipt, ctx.price)
    nonces[sender.address] = max(nonces[sender.address], nonce + 1)
    rec.result.metrics["double_spend"] = {"sent": sent, "included": len(included)}
    rec.check(
        "double_spend",
        len(included) <= 1,
        "of two transactions spending one nonce, at most one is ever included",
        nonce=nonce,
        transactions=[t.hash for t in pair],
        sent=sent,
        included=included,
        nonce_consumed=mined,
    )


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
        rec.check("rollback", None, "the reverting payee could not be deployed", receipt=receipt)
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
    rec.check(
        "rollback",
        failed_visibly and not changed,
        "a failing payment changes no balance but the sender's gas, and the sender is told",
        payee=payee,
        transaction=payment.hash,
        sender_told=told,
        gas_fee_wei=str(fee),
        unexpected_changes=changed,
    )
    return payee
