"""Confirmations per block, on a thread of their own: ``BlockWatcher``.

A load generator's event loop must wake on time for every scheduled send; fetching
blocks and receipts on the same loop delays it, and on a busy machine makes the "seen"
time the moment the loop got round to a block. The watcher runs on its own thread with a
blocking, guarded client of its own (``wire.LeanRpcClient`` in the clearing suite, a few
hundred microseconds of CPU a poll; any client with ``rpc.RpcClient``'s ``call`` and
``batch`` will do):

- every ``poll_s`` seconds it reads the head; a higher head is stamped at once on
  ``time.monotonic`` (the clock asyncio's loop uses, shared by every thread and process
  on the machine), and each new block's transaction hashes are fetched (in batches, by
  number) and matched against the hashes it watches, so confirmations are found per
  block, never by polling each transaction;
- the receipts of the matched transactions are read in batches (``receipt_batch`` each,
  which also bounds how long one answer's decoding holds the interpreter); one not served
  yet is asked for again at the next poll;
- each settled transaction (hash, seen time, succeeded, fee paid) is handed to
  ``deliver`` from the watcher's thread, in lists, one call per poll: the caller passes
  them to its own loop (``loop.call_soon_threadsafe``);
- a failed poll is retried at the next one; after ``stop`` it polls once more, so a block
  that came in meanwhile is not missed; an unexpected error ends the thread and is raised
  again by ``stop``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping

from . import accounts as acc
from .errors import EngineError
from .rpc import quantity

Settled = tuple[str, float, bool, int]
"""(transaction hash, monotonic time its block was first seen, succeeded, fee paid in wei)"""


class BlockWatcher:
    """Matches new blocks against ``watched`` (hash -> signed gas price); see the module doc."""

    def __init__(
        self,
        rpc,
        watched: Mapping[str, int],
        start_head: int,
        deliver: Callable[[list[Settled]], None],
        *,
        poll_s: float = 0.05,
        block_batch: int = 50,
        receipt_batch: int = 200,
    ):
        self.rpc = rpc
        self.deliver = deliver
        self.poll_s = poll_s
        self.block_batch = block_batch
        self.receipt_batch = receipt_batch
        self.head = start_head
        self.blocks: list[list[int]] = []  # [height, transactions, ours]
        self.error: BaseException | None = None
        self._watched = {h.lower(): price for h, price in watched.items()}
        self._awaiting: dict[str, float] = {}  # in a block, receipt not read yet: seen time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="block-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Poll once more, end the thread, and raise what ended it early, if anything."""
        self._stop.set()
        self._thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            while True:
                stopping = self._stop.is_set()
                with contextlib.suppress(EngineError):  # a missed poll is retried
                    self.poll()
                if stopping:
                    return
                self._stop.wait(self.poll_s)
        except BaseException as exc:  # raised again by stop()
            self.error = exc

    def poll(self) -> None:
        """One round: new blocks, then the receipts still missing."""
        rpc = self.rpc
        now_head = quantity(rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)
        observed = time.monotonic()
        while self.head < now_head:
            heights = list(range(self.head + 1, min(now_head, self.head + self.block_batch) + 1))
            blocks = rpc.batch([("eth_getBlockByNumber", (hex(h), False)) for h in heights])
            for height, block in zip(heights, blocks, strict=True):
                if not isinstance(block, dict):
                    raise EngineError(f"block {height} is missing")
                self._match(height, block, observed)
                self.head = height
        if self._awaiting:
            self._receipts()

    def _match(self, height: int, block: dict, observed: float) -> None:
        hashes = [h for h in block.get("transactions") or [] if isinstance(h, str)]
        ours = 0
        for h in hashes:
            key = h.lower()
            if key in self._watched and key not in self._awaiting:
                self._awaiting[key] = observed
                ours += 1
        self.blocks.append([height, len(hashes), ours])

    def _receipts(self) -> None:
        rpc = self.rpc
        waiting = list(self._awaiting)
        for i in range(0, len(waiting), self.receipt_batch):
            part = waiting[i : i + self.receipt_batch]
            receipts = rpc.batch(
                [("eth_getTransactionReceipt", (h,)) for h in part], raise_errors=False
            )
            settled: list[Settled] = []
            try:
                for h, receipt in zip(part, receipts, strict=True):
                    if not isinstance(receipt, dict):
                        continue  # in a block but its receipt not served yet: asked again
                    fee = acc.fee_paid(receipt, self._watched[h], rpc.endpoint)
                    settled.append((h, self._awaiting.pop(h), acc.succeeded(receipt), fee))
                    del self._watched[h]
            finally:
                if settled:
                    self.deliver(settled)
