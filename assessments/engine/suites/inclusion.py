"""Inclusion and finality latency of transfers, measured as intervals on the engine's clock.

The payment suite's measuring instrument. Transfers are sent in rounds: in each round every
usable test account sends one transfer, at a random point of a ``spread_s`` window, so
many transfers share a block and submissions fall at random points of the block interval.
The next round starts when every transfer of this one is settled (one in flight per account).

One ``HeadWatch`` per endpoint reads that endpoint's head every ``poll_s`` seconds on the
same event loop; when the head moves it fetches the new blocks (hashes only) and matches
them against the transfers sent to that endpoint, then reads their receipts in batches.
A transfer's inclusion is known as an interval on ``time.monotonic``: its block was not
visible at the start of the last poll that showed a lower head, and was at the end of the
poll that showed it. Latencies are taken from the moment the send request started, so
``(low, high)`` brackets the true submit-to-visible-inclusion latency whatever the node's
clock says. Finality (``depth`` confirmations) is bracketed the same way.

The instrument's own error is measured, never assumed: the width of every latency's
interval (poll interval plus round trips), how late each sleep of the sender and the
pollers woke (scheduling lag), and how far the wall clock stepped against the monotonic one.
A head that does not move for ``timeout_s`` while transfers wait is a stall, named with its
height.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .. import accounts as acc
from ..errors import EngineError, RpcError
from ..rpc import AsyncRpcClient, quantity

_random = secrets.SystemRandom()

BLOCK_BATCH = 100
RECEIPT_BATCH = 200


@dataclass
class Transfer:
    index: int
    endpoint: int
    tx: acc.SignedTx
    due: float = 0.0
    sent: float = 0.0  # monotonic time the send request started
    sent_wall: float = 0.0
    state: str = "new"  # sent, refused, included, failed, unconfirmed
    refusal: str = ""
    height: int | None = None
    block_time: int | None = None  # the including block's own timestamp (seconds)
    seen: tuple[float, float] | None = None  # block visible: (after, by), monotonic
    seen_wall: tuple[float, float] | None = None
    final: tuple[float, float] | None = None
    receipt: dict | None = None

    def latency(self) -> tuple[float, float] | None:
        return _since(self.seen, self.sent)

    def finality(self) -> tuple[float, float] | None:
        return _since(self.final, self.sent)


def _since(bracket: tuple[float, float] | None, start: float) -> tuple[float, float] | None:
    if bracket is None:
        return None
    return max(0.0, bracket[0] - start), max(0.0, bracket[1] - start)


@dataclass
class Stall:
    endpoint: str
    height: int
    idle_s: float  # how long the engine watched the head stay at ``height``


class HeadWatch:
    """One endpoint's head, blocks and receipts, polled on the suite's event loop."""

    def __init__(self, rpc: AsyncRpcClient, head: int, depth: int, poll_s: float, lags: list):
        self.rpc = rpc
        self.head = head
        self.depth = depth
        self.poll_s = poll_s
        self.lags = lags  # shared with the sender: every late wake-up of the instrument
        self.pending: dict[str, Transfer] = {}  # sent, block not seen yet
        self.receipts: dict[str, Transfer] = {}  # in a block, receipt not read yet
        self.unfinal: list[Transfer] = []
        self.moved_at = time.monotonic()  # when the head last moved (or the watch began)
        self.changes: list[tuple[int, float, int | None]] = []  # (height, seen by, timestamp)
        self.polls = 0
        self.failed_polls = 0
        self.last_error = ""
        self.fees = 0
        self._prev_start: float | None = None
        self._prev_start_wall: float | None = None

    async def watch(self, stop: asyncio.Event) -> None:
        next_at = time.monotonic()
        while not stop.is_set():
            try:
                await self.poll()
            except RpcError as exc:
                self.failed_polls += 1
                self.last_error = exc.message[:200]
            except EngineError as exc:  # a missed poll is retried at the next one
                self.failed_polls += 1
                self.last_error = str(exc)[:200]
            next_at += self.poll_s
            now = time.monotonic()
            if next_at <= now:
                next_at = now  # the poll itself took longer: the node's time, not a lag
                await asyncio.sleep(0)
                continue
            await asyncio.sleep(next_at - now)
            self.lags.append(max(0.0, time.monotonic() - next_at))

    async def poll(self) -> None:
        start, start_wall = time.monotonic(), time.time()
        rpc = self.rpc
        now_head = quantity(await rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)
        end, end_wall = time.monotonic(), time.time()
        self.polls += 1
        if now_head > self.head:
            after = self._prev_start if self._prev_start is not None else start
            after_wall = self._prev_start_wall if self._prev_start_wall is not None else start
            await self._blocks(now_head, (after, end), (after_wall, end_wall))
            for t in list(self.unfinal):
                if t.height is not None and t.height + self.depth - 1 <= now_head:
                    t.final = (after, end)
                    self.unfinal.remove(t)
        self._prev_start, self._prev_start_wall = start, start_wall
        if self.receipts:
            await self._receipts()

    async def _blocks(self, top: int, seen: tuple, seen_wall: tuple) -> None:
        rpc = self.rpc
        stamp = None
        while self.head < top:
            heights = list(range(self.head + 1, min(top, self.head + BLOCK_BATCH) + 1))
            blocks = await rpc.batch([("eth_getBlockByNumber", (hex(h), False)) for h in heights])
            for height, block in zip(heights, blocks, strict=True):
                if not isinstance(block, dict):
                    raise EngineError(f"block {height} is missing")
                stamp = _int(block.get("timestamp"))
                for h in block.get("transactions") or []:
                    t = self.pending.pop(h.lower(), None) if isinstance(h, str) else None
                    if t is None:
                        continue
                    t.height, t.block_time = height, stamp
                    t.seen, t.seen_wall = seen, seen_wall
                    self.receipts[h.lower()] = t
                    self.unfinal.append(t)
                self.head = height
        self.changes.append((top, seen[1], stamp))
        self.moved_at = seen[1]

    async def _receipts(self) -> None:
        rpc = self.rpc
        waiting = list(self.receipts)
        for i in range(0, len(waiting), RECEIPT_BATCH):
            part = waiting[i : i + RECEIPT_BATCH]
            answers = await rpc.batch(
                [("eth_getTransactionReceipt", (h,)) for h in part], raise_errors=False
            )
            for h, receipt in zip(part, answers, strict=True):
                if not isinstance(receipt, dict):
                    continue  # in a block, receipt not served yet: asked again next poll
                t = self.receipts.pop(h)
                t.receipt = receipt
                t.state = "included" if acc.succeeded(receipt) else "failed"
                self.fees += acc.fee_paid(receipt, t.tx.gas_price, rpc.endpoint)

    def interval(self) -> float | None:
        """Mean time between head changes seen while watching (None with fewer than two)."""
        if len(self.changes) < 2:
            return None
        (h0, t0, _), (h1, t1, _) = self.changes[0], self.changes[-1]
        return (t1 - t0) / (h1 - h0) if h1 > h0 else None

    def stamped_interval(self) -> float | None:
        """Mean interval by the blocks' own timestamps over the same heights."""
        if len(self.changes) < 2:
            return None
        (h0, _, s0), (h1, _, s1) = self.changes[0], self.changes[-1]
        if s0 is None or s1 is None or h1 <= h0:
            return None
        return (s1 - s0) / (h1 - h0)


def _int(value) -> int | None:
    try:
        return int(value, 16) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass
class Measurement:
    transfers: list[Transfer] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    watches: list[HeadWatch] = field(default_factory=list)
    stall: Stall | None = None
    clock_step_s: float = 0.0
    unusable_accounts: int = 0


async def measure(
    clients: Sequence[AsyncRpcClient],
    heads: Sequence[int],
    plan: Sequence[tuple[int, Callable[[int], acc.SignedTx]]],
    *,
    count: int,
    spread_s: float,
    poll_s: float,
    depth: int,
    timeout_s: float,
    on_round: Callable[[int], None],
    log: Callable[[str], None],
) -> Measurement:
    """Send ``count`` transfers in rounds and bracket their inclusion and finality times.

    ``plan`` holds, per test account, its index and a function signing its next transfer
    given the nonce offset; ``heads`` the endpoints' heights before the first round.
    ``on_round(done)`` runs after each round and may raise to stop (the watches stop).
    """
    m = Measurement()
    m.watches = [
        HeadWatch(c, h, depth, poll_s, m.lags) for c, h in zip(clients, heads, strict=True)
    ]
    wall0, mono0 = time.time(), time.monotonic()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.watch(stop)) for w in m.watches]
    usable = {account: 0 for account, _ in plan}  # account -> transfers handed over
    signers = dict(plan)
    try:
        while len(m.transfers) < count and usable and m.stall is None:
            accounts = list(usable)[: count - len(m.transfers)]
            batch = []
            for account in accounts:
                index = len(m.transfers)
                tx = signers[account](usable[account])
                t = Transfer(index=index, endpoint=index % len(clients), tx=tx)
                m.transfers.append(t)
                batch.append((account, t))
            await _round(m, clients, batch, spread_s, timeout_s, log)
            for account, t in batch:
                if t.state in ("included", "failed"):
                    usable[account] += 1
                else:
                    # Refused, or sent and never mined: the account's nonce is in doubt.
                    del usable[account]
                    m.unusable_accounts += 1
            # The caller's progress callback may write to a database or raise to cancel;
            # it runs on a thread of its own, never inside this event loop.
            await asyncio.to_thread(on_round, len(m.transfers))
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    m.clock_step_s = (time.time() - wall0) - (time.monotonic() - mono0)
    return m


async def _round(m: Measurement, clients, batch, spread_s: float, timeout_s: float, log):
    """Send one round at random points of the window, then wait until it settles."""
    begin = time.monotonic() + 0.01
    for _, t in batch:
        t.due = begin + _random.uniform(0, spread_s)
    order = sorted((t for _, t in batch), key=lambda t: t.due)
    sends = []
    for t in order:
        now = time.monotonic()
        if t.due > now:
            await asyncio.sleep(t.due - now)
        m.lags.append(max(0.0, time.monotonic() - t.due))
        m.watches[t.endpoint].pending[t.tx.hash.lower()] = t  # before it can be mined
        t.state = "sent"
        t.sent, t.sent_wall = time.monotonic(), time.time()
        sends.append(asyncio.create_task(_send(clients[t.endpoint], t, m.watches[t.endpoint], log)))
    await asyncio.gather(*sends)
    while True:
        now = time.monotonic()
        waiting = [t for t in order if t.state == "sent" or (t.seen and t.final is None)]
        if not waiting:
            return
        for t in waiting:
            if now - t.sent < timeout_s:
                continue
            watch = m.watches[t.endpoint]
            if t.state == "sent":
                watch.pending.pop(t.tx.hash.lower(), None)
                watch.receipts.pop(t.tx.hash.lower(), None)
                if watch.moved_at <= t.sent and m.stall is None:
                    m.stall = Stall(watch.rpc.endpoint, watch.head, now - watch.moved_at)
                t.state = "unconfirmed"
            elif t in watch.unfinal:
                watch.unfinal.remove(t)  # included, but the chain stopped short of final
        if all(now - t.sent >= timeout_s for t in waiting):
            return
        await asyncio.sleep(0.02)


async def _send(rpc: AsyncRpcClient, t: Transfer, watch: HeadWatch, log) -> None:
    try:
        await rpc.call("eth_sendRawTransaction", t.tx.raw)
    except RpcError as exc:
        watch.pending.pop(t.tx.hash.lower(), None)
        t.state, t.refusal = "refused", exc.message[:200]
        log(f"transfer {t.index} refused: {t.refusal}")
    except EngineError as exc:
        # No answer: it may or may not have reached the node; the blocks decide.
        log(f"transfer {t.index}: no answer to the send ({exc}); watching the blocks for it")
