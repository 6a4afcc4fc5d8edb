"""Ledger suite: over a range of blocks, is every account's history consistent?

Two inputs, one replay:

- **a live chain** (``run(target, parameters)``): the blocks ``from_block..to_block`` (by
  default the latest ``blocks``) are fetched from ``target.endpoints[0]`` with their full
  transactions, in JSON-RPC batches, with their receipts (``eth_getBlockReceipts``, or
  batched ``eth_getTransactionReceipt`` where the node does not offer it). Every account
  the range touches (senders, recipients, created contracts, block beneficiaries,
  withdrawal recipients) starts from its balance and nonce at ``from_block - 1``
  (``eth_getBalance`` / ``eth_getTransactionCount``) and ends compared with its balance at
  ``to_block``;
- **an uploaded history** (``check_history(source, parameters)``), JSON Lines in the format
  ``sandbox-ledger-history/1`` below.

The replay applies each transaction in order: the sender pays ``fee`` (and ``value`` when
the transaction succeeded), the recipient gets ``value`` when it succeeded, the block's
beneficiary (``miner``) gets the priority fee (the tip: fee minus the base fee burned), and
block rewards and withdrawals add new value. It guarantees these checks (every violation
names the account and the block height):

- ``no_double_spend``: no account's nonce is used twice. Account-based chains (Ethereum and
  its relatives) have no outputs: an account's nonce orders its spends, so "an output spent
  twice" is, here, two included transactions with one sender and one nonce;
- ``nonces_gap_free``: each account's nonces run on without a gap from the nonce it had at
  the start of the range (a later transaction filling a gap is reported out of order);
- ``no_negative_balance``: no account's balance goes below zero after any transaction;
- ``value_conserved``: the sum of all balance changes equals the value created (block
  rewards, withdrawals) minus the fees burned, and every account's replayed balance at
  the end equals the one the chain (or the history's closing line) shows.

What Hardhat does, and so what the reference node is checked against: post-merge blocks
have no block reward (``block_reward_wei`` 0), the base fee of every transaction is burned
and the priority fee goes to the block's ``miner`` (by default
``0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e``). Value moved by contract code (internal
transfers) is not visible in blocks and receipts without tracing: on a chain where
contracts move value, ``value_conserved`` names the accounts whose balances differ.

Format ``sandbox-ledger-history/1``
===================================

JSON Lines (UTF-8, one object per line, every line ending with a newline). Amounts are in
the chain's smallest unit (wei), as integers or strings (decimal, or hex with ``0x``);
account addresses are compared without regard to case. The first line is the header::

    {"type": "header", "format": "sandbox-ledger-history/1", "first_block": 100,
     "balances": {"0xabc...": "5000000000000000000"}, "nonces": {"0xabc...": 12}}

``balances`` are the opening balances (an account not listed starts at 0, so list every
sender); ``nonces`` (optional) the next nonce of each account at the start (an account not
listed starts its sequence at its first transaction's nonce); ``first_block`` is optional.
Then, in the order the chain executed them (blocks never go back):

- ``{"type": "tx", "block": 101, "hash": "0x..", "from": "0x..", "to": "0x.." or null,
  "value": "1000", "nonce": 12, "fee": "21000000000000", "status": 1,
  "tip": "21000000000", "miner": "0x.."}``: ``fee`` is what the sender paid in all;
  ``tip`` (optional, default 0) is the part of it paid to ``miner``, the rest is burned;
  ``status`` is 1 (success) or 0 (failed: the fee is paid, the value does not move);
  ``hash``, ``tip`` and ``miner`` are optional;
- ``{"type": "reward", "block": 101, "to": "0x..", "value": "2000000000000000000"}``: new
  value (a block reward, a withdrawal);
- ``{"type": "closing", "balances": {...}}`` (optional, last): the balances the ledger shows
  at the end (an account not listed holds 0); without it ``value_conserved`` is not judged.

A line that breaks the format is refused, naming it (``jsonl.FormatError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from ..errors import InvalidParameters, NonConformingNode, RpcError
from ..jsonl import FormatError, LineReader, Source, decode_header
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import RpcClient, quantity
from .common import checked_block, client, head
from .consensus_trace import Series

FORMAT = "sandbox-ledger-history/1"
EVIDENCE_LIMIT = 50


@dataclass(frozen=True)
class LedgerParameters:
    blocks: int = 50
    """How many of the latest blocks are checked when from_block is not given."""
    from_block: int | None = None
    """First block of the range (at least 1: the state before it is the starting point)."""
    to_block: int | None = None
    """Last block of the range; None is the node's head."""
    block_reward_wei: int = 0
    """Value each block creates for its beneficiary (0 after the merge, and on Hardhat)."""
    batch: int = 20
    """Blocks fetched per JSON-RPC batch."""
    max_blocks: int = 10_000
    """Largest range accepted."""

    def validate(self) -> None:
        require(1 <= self.blocks <= 100_000, "blocks must be 1-100000")
        require(self.from_block is None or self.from_block >= 1, "from_block must be >= 1")
        require(self.to_block is None or self.to_block >= 1, "to_block must be >= 1")
        require(
            self.from_block is None or self.to_block is None or self.from_block <= self.to_block,
            "from_block must not be after to_block",
        )
        require(self.block_reward_wei >= 0, "block_reward_wei must not be negative")
        require(1 <= self.batch <= 200, "batch must be 1-200")
        require(1 <= self.max_blocks <= 1_000_000, "max_blocks must be 1-1000000")


@dataclass(frozen=True)
class HistoryParameters:
    max_bytes: int | None = None
    """Largest history accepted, in bytes; None for no limit."""

    def validate(self) -> None:
        require(self.max_bytes is None or self.max_bytes > 0, "max_bytes must be positive")


# --- the replay ------------------------------------------------------------------------


class Ledger:
    """Balances and nonces replayed transaction by transaction, and what went wrong."""

    def __init__(self):
        self.opening: dict[str, int] = {}
        self.balance: dict[str, int] = {}
        self.next_nonce: dict[str, int] = {}
        self.gaps: dict[str, set[int]] = {}
        self.minted = 0
        self.burned = 0
        self.fees = 0
        self.transactions = 0
        self.failed = 0
        self.block_count = 0
        self.block_transactions = 0
        self.per_block = Series()
        self.first_block: int | None = None
        self.last_block: int | None = None
        self.found = dict.fromkeys(("double_spends", "gaps", "negative"), 0)
        self.double_spends: list[dict] = []
        self.nonce_gaps: list[dict] = []
        self.negative: list[dict] = []
        self._negative_accounts: set[str] = set()

    def open_account(self, account: str, balance: int, nonce: int | None = None) -> None:
        if account not in self.opening:
            self.opening[account] = balance
            self.balance[account] = balance
        if nonce is not None and account not in self.next_nonce:
            self.next_nonce[account] = nonce

    def block(self, number: int) -> None:
        """The records that follow belong to block ``number`` (never lower than the last)."""
        if self.first_block is None:
            self.first_block = number
        if number != self.last_block:
            self._close_block()
            self.block_count += 1
        self.last_block = number

    def _close_block(self) -> None:
        if self.last_block is not None:
            self.per_block.add(self.block_count - 1, [self.last_block, self.block_transactions])
        self.block_transactions = 0

    def _credit(self, account: str, amount: int) -> None:
        if account not in self.balance:
            self.open_account(account, 0)
        self.balance[account] += amount

    def _debit(self, account: str, amount: int, block: int, tx: str | None) -> None:
        if account not in self.balance:
            self.open_account(account, 0)
        after = self.balance[account] - amount
        self.balance[account] = after
        if after < 0 and account not in self._negative_accounts:
            self._negative_accounts.add(account)
            self.found["negative"] += 1
            if len(self.negative) < EVIDENCE_LIMIT:
                self.negative.append(
                    {"account": account, "block": block, "balance_wei": str(after), "tx": tx}
                )
        elif after >= 0 and account in self._negative_accounts:
            self._negative_accounts.discard(account)

    def reward(self, block: int, to: str, value: int) -> None:
        self.minted += value
        self._credit(to, value)

    def transaction(
        self,
        *,
        block: int,
        sender: str,
        to: str | None,
        value: int,
        nonce: int,
        fee: int,
        tip: int,
        miner: str | None,
        ok: bool,
        tx: str | None,
    ) -> None:
        self.transactions += 1
        self.block_transactions += 1
        if not ok:
            self.failed += 1
        self._nonce(sender, nonce, block, tx)
        self.fees += fee
        self.burned += fee - tip
        self._debit(sender, fee + (value if ok else 0), block, tx)
        if ok and to is not None:
            self._credit(to, value)
        elif to is not None and to not in self.balance:
            self.open_account(to, 0)
        if tip and miner is not None:
            self._credit(miner, tip)

    def _nonce(self, sender: str, nonce: int, block: int, tx: str | None) -> None:
        expected = self.next_nonce.get(sender)
        if expected is None or nonce == expected:
            self.next_nonce[sender] = nonce + 1
            return
        if nonce > expected:
            self.found["gaps"] += 1
            if len(self.nonce_gaps) < EVIDENCE_LIMIT:
                self.nonce_gaps.append(
                    {
                        "account": sender,
                        "block": block,
                        "expected_nonce": expected,
                        "nonce": nonce,
                        "missing": list(range(expected, min(nonce, expected + 10))),
                        "tx": tx,
                    }
                )
            missing = self.gaps.setdefault(sender, set())
            if nonce - expected <= 1000:
                missing.update(range(expected, nonce))
            self.next_nonce[sender] = nonce + 1
            return
        # A nonce already behind the account: either it fills a gap (out of order) or it
        # was used before (a double spend).
        missing = self.gaps.get(sender)
        if missing and nonce in missing:
            missing.discard(nonce)
            self.found["gaps"] += 1
            if len(self.nonce_gaps) < EVIDENCE_LIMIT:
                self.nonce_gaps.append(
                    {
                        "account": sender,
                        "block": block,
                        "nonce": nonce,
                        "out_of_order": True,
                        "tx": tx,
                    }
                )
            return
        self.found["double_spends"] += 1
        if len(self.double_spends) < EVIDENCE_LIMIT:
            self.double_spends.append(
                {
                    "account": sender,
                    "block": block,
                    "nonce": nonce,
                    "next_nonce": expected,
                    "tx": tx,
                }
            )

    # -- verdicts ------------------------------------------------------------------------

    def result(self, rec: Recorder, closing: dict[str, int] | None, source: str) -> SuiteResult:
        self._close_block()
        rec.result.charts["transactions_per_block"] = self.per_block.points
        opening_total = sum(self.opening.values())
        replayed_total = sum(self.balance.values())
        expected_change = self.minted - self.burned
        mismatched: list[dict] = []
        mismatch_count = 0
        conserved: bool | None = None
        actual_change = None
        if closing is not None:
            accounts = sorted(set(self.balance) | set(closing))
            mismatch_count = 0
            for account in accounts:
                replayed = self.balance.get(account, 0)
                shown = closing.get(account, 0)
                if replayed != shown:
                    mismatch_count += 1
                    if len(mismatched) < EVIDENCE_LIMIT:
                        mismatched.append(
                            {
                                "account": account,
                                "block": self.last_block,
                                "replayed_wei": str(replayed),
                                "shown_wei": str(shown),
                                "difference_wei": str(shown - replayed),
                            }
                        )
            actual_change = sum(closing.values()) - sum(self.opening.get(a, 0) for a in accounts)
            conserved = mismatch_count == 0 and actual_change == expected_change
        rec.result.metrics.update(
            {
                "source": source,
                "first_block": self.first_block,
                "last_block": self.last_block,
                "blocks": self.block_count,
                "transactions": self.transactions,
                "failed_transactions": self.failed,
                "accounts": len(self.balance),
                "fees_paid_wei": str(self.fees),
                "fees_burned_wei": str(self.burned),
                "value_created_wei": str(self.minted),
                "double_spends": self.found["double_spends"],
                "nonce_gaps": self.found["gaps"],
                "negative_balances": self.found["negative"],
                "balance_mismatches": mismatch_count if closing is not None else None,
            }
        )
        judged = self.transactions > 0
        rec.check(
            "no_double_spend",
            (self.found["double_spends"] == 0) if judged else None,
            "no account's nonce is used by two included transactions (account chains have no "
            "outputs: a sender's nonce is what a double spend reuses)",
            double_spends=self.double_spends,
            count=self.found["double_spends"],
        )
        rec.check(
            "nonces_gap_free",
            (self.found["gaps"] == 0) if judged else None,
            "each account's nonces run on without a gap from its nonce at the start",
            gaps=self.nonce_gaps,
            count=self.found["gaps"],
        )
        rec.check(
            "no_negative_balance",
            (self.found["negative"] == 0) if judged else None,
            "no account's balance goes below zero",
            negative=self.negative,
            count=self.found["negative"],
        )
        rec.check(
            "value_conserved",
            conserved,
            "the balances change by the value created minus the fees burned, and every "
            "account ends with the balance the ledger shows"
            + ("" if closing is not None else " (not judged: no closing balances given)"),
            expected_change_wei=str(expected_change),
            actual_change_wei=None if actual_change is None else str(actual_change),
            replayed_change_wei=str(replayed_total - opening_total),
            mismatched=mismatched,
        )
        return rec.finish()


# --- a live chain ----------------------------------------------------------------------


def _address(value: Any, what: str, endpoint: str) -> str:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise NonConformingNode(endpoint, f"{what} is not an address: {value!r:.80}")
    return value.lower()


class _Fetcher:
    def __init__(self, rpc: RpcClient):
        self.rpc = rpc
        self.block_receipts = True

    def blocks(self, numbers: list[int]) -> list[tuple[dict, list[dict]]]:
        """Blocks with full transactions and each transaction's receipt, in order."""
        ep = self.rpc.endpoint
        results = self.rpc.batch([("eth_getBlockByNumber", (hex(n), True)) for n in numbers])
        blocks = []
        for n, block in zip(numbers, results, strict=True):
            if block is None:
                raise NonConformingNode(ep, f"block {n} is missing below the head")
            blocks.append(checked_block(block, ep, n))
        receipts = self._receipts(numbers, blocks)
        for n, block, found in zip(numbers, blocks, receipts, strict=True):
            if len(found) != len(block["transactions"]) or not all(
                isinstance(r, dict) for r in found
            ):
                raise NonConformingNode(
                    ep, f"block {n}: its receipts do not match its transactions"
                )
        return list(zip(blocks, receipts, strict=True))

    def _receipts(self, numbers: list[int], blocks: list[dict]) -> list[list[dict]]:
        ep = self.rpc.endpoint
        if self.block_receipts:
            outcomes = self.rpc.batch(
                [("eth_getBlockReceipts", (hex(n),)) for n in numbers], raise_errors=False
            )
            if all(isinstance(o, list) for o in outcomes):
                return outcomes
            if any(isinstance(o, RpcError) for o in outcomes):
                self.block_receipts = False  # not offered: ask per transaction
        hashes = [tx["hash"] for b in blocks for tx in b["transactions"] if isinstance(tx, dict)]
        by_hash: dict[str, dict] = {}
        for i in range(0, len(hashes), 100):
            part = hashes[i : i + 100]
            for h, receipt in zip(
                part,
                self.rpc.batch([("eth_getTransactionReceipt", (h,)) for h in part]),
                strict=True,
            ):
                if not isinstance(receipt, dict):
                    raise NonConformingNode(ep, f"no receipt for included transaction {h}")
                by_hash[h] = receipt
        return [[by_hash[tx["hash"]] for tx in b["transactions"]] for b in blocks]


def _replay_block(ledger: Ledger, block: dict, receipts: list[dict], reward: int, ep: str) -> None:
    number = quantity(block["number"], "block number", ep)
    ledger.block(number)
    base_fee = quantity(block.get("baseFeePerGas") or "0x0", "baseFeePerGas", ep)
    miner = _address(block.get("miner"), f"block {number} miner", ep)
    for tx, receipt in zip(block["transactions"], receipts, strict=True):
        if not isinstance(tx, dict):
            raise NonConformingNode(ep, f"block {number} holds transaction hashes, not objects")
        sender = _address(tx.get("from"), "transaction sender", ep)
        to = tx.get("to")
        to = _address(to, "transaction recipient", ep) if to else None
        if to is None and receipt.get("contractAddress"):
            to = _address(receipt["contractAddress"], "created contract", ep)
        gas_used = quantity(receipt.get("gasUsed"), "receipt gasUsed", ep)
        price = receipt.get("effectiveGasPrice") or tx.get("gasPrice")
        price = quantity(price, "effectiveGasPrice", ep)
        fee = gas_used * price
        burned = min(fee, gas_used * base_fee)
        ledger.transaction(
            block=number,
            sender=sender,
            to=to,
            value=quantity(tx.get("value"), "transaction value", ep),
            nonce=quantity(tx.get("nonce"), "transaction nonce", ep),
            fee=fee,
            tip=fee - burned,
            miner=miner,
            ok=quantity(receipt.get("status", "0x1"), "receipt status", ep) == 1,
            tx=tx.get("hash"),
        )
    if reward:
        ledger.reward(number, miner, reward)
    for w in block.get("withdrawals") or []:
        address = _address(w.get("address"), "withdrawal address", ep)
        ledger.reward(number, address, quantity(w.get("amount"), "withdrawal amount", ep) * 10**9)


def _accounts_of(block: dict, receipts: list[dict], ep: str) -> list[str]:
    found = [_address(block.get("miner"), "block miner", ep)]
    for tx, receipt in zip(block["transactions"], receipts, strict=True):
        if isinstance(tx, dict):
            found.append(_address(tx.get("from"), "transaction sender", ep))
            if tx.get("to"):
                found.append(_address(tx["to"], "transaction recipient", ep))
            elif receipt.get("contractAddress"):
                found.append(_address(receipt["contractAddress"], "created contract", ep))
    for w in block.get("withdrawals") or []:
        found.append(_address(w.get("address"), "withdrawal address", ep))
    return found


def _states(rpc: RpcClient, accounts: list[str], at: int) -> dict[str, tuple[int, int]]:
    """(balance, nonce) of each account at block ``at``, in batches."""
    ep = rpc.endpoint
    out: dict[str, tuple[int, int]] = {}
    for i in range(0, len(accounts), 50):
        part = accounts[i : i + 50]
        calls = []
        for a in part:
            calls.append(("eth_getBalance", (a, hex(at))))
            calls.append(("eth_getTransactionCount", (a, hex(at))))
        results = rpc.batch(calls)
        for j, a in enumerate(part):
            out[a] = (
                quantity(results[2 * j], "eth_getBalance", ep),
                quantity(results[2 * j + 1], "eth_getTransactionCount", ep),
            )
    return out


def run(
    target: Target,
    parameters: dict | LedgerParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Check a range of blocks of ``target.endpoints[0]``; see the module docstring."""
    p = parse_parameters(LedgerParameters, parameters)
    rec = Recorder("ledger", target, p, progress)
    ledger = Ledger()
    with client(target) as rpc:
        ep = rpc.endpoint
        top = head(rpc)
        last = p.to_block if p.to_block is not None else top
        if last > top:
            raise InvalidParameters(f"to_block {last} is above the node's head {top}")
        first = p.from_block if p.from_block is not None else max(1, last - p.blocks + 1)
        if last < 1 or first > last:
            raise InvalidParameters(f"the chain has no block to check yet (head {top})")
        if last - first + 1 > p.max_blocks:
            raise InvalidParameters(
                f"blocks {first}..{last} are {last - first + 1}; at most {p.max_blocks} at once"
            )
        rec.progress(0, f"replaying blocks {first}..{last} of {ep}")
        fetcher = _Fetcher(rpc)
        total = last - first + 1
        for start in range(first, last + 1, p.batch):
            numbers = list(range(start, min(last, start + p.batch - 1) + 1))
            fetched = fetcher.blocks(numbers)
            new = []
            for block, receipts in fetched:
                for a in _accounts_of(block, receipts, ep):
                    if a not in ledger.opening and a not in new:
                        new.append(a)
            for a, (balance, nonce) in _states(rpc, new, first - 1).items():
                ledger.open_account(a, balance, nonce)
            for block, receipts in fetched:
                _replay_block(ledger, block, receipts, p.block_reward_wei, ep)
            done = numbers[-1] - first + 1
            rec.progress(90 * done / total, f"blocks {first}..{numbers[-1]} replayed")
        rec.progress(92, f"reading {len(ledger.balance)} balances at block {last}")
        closing = {a: s[0] for a, s in _states(rpc, sorted(ledger.balance), last).items()}
        rec.log(
            f"{ledger.transactions} transactions, {len(ledger.balance)} accounts, "
            f"receipts by {'block' if fetcher.block_receipts else 'transaction'}"
        )
    ledger.first_block, ledger.last_block = first, last
    return ledger.result(rec, closing, f"chain {ep} blocks {first}..{last}")


# --- an uploaded history ---------------------------------------------------------------

Amount = int | str
NonNegative = Annotated[int, msgspec.Meta(ge=0)]


class HistoryHeader(msgspec.Struct):
    type: str
    format: str
    balances: dict[str, Amount] = {}
    nonces: dict[str, NonNegative] = {}
    first_block: NonNegative | None = None


class Record(msgspec.Struct, gc=False):
    type: str
    block: NonNegative | None = None
    to: str | None | msgspec.UnsetType = msgspec.UNSET
    value: Amount | None = None
    hash: str | None = None
    nonce: NonNegative | None = None
    fee: Amount | None = None
    tip: Amount | None = None
    miner: str | None = None
    status: int | str | None = None
    balances: dict[str, Amount] | None = None
    # "from" is a keyword in Python.
    sender: str | None = msgspec.field(default=None, name="from")


def _amount(value: Any, what: str, line: int) -> int:
    if isinstance(value, bool):
        raise FormatError(line, f"{what} must be an amount, not {value!r}")
    if isinstance(value, int):
        amount = value
    else:
        text = str(value).strip()
        try:
            amount = int(text, 16) if text[:2] in ("0x", "0X") else int(text, 10)
        except ValueError:
            raise FormatError(line, f"{what} {value!r} is not an amount (wei)") from None
    if amount < 0:
        raise FormatError(line, f"{what} must not be negative")
    return amount


def _status(value: Any, line: int) -> bool:
    if value in (1, "1", "0x1", "success", "ok"):
        return True
    if value in (0, "0", "0x0", "failed", "failure", "reverted"):
        return False
    raise FormatError(line, f"status {value!r} is neither 1 (success) nor 0 (failed)")


def _balances(values: dict[str, Any], line: int, what: str) -> dict[str, int]:
    return {a.lower(): _amount(v, f"{what} of {a}", line) for a, v in values.items()}


_history_header = msgspec.json.Decoder(HistoryHeader)


def _decode_history_header(line: bytes) -> HistoryHeader:
    return decode_header(_history_header, line, FORMAT)


def _explain(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return "a record is a JSON object"
    kind = obj.get("type")
    if isinstance(kind, str) and kind not in ("tx", "reward", "closing"):
        return f"unknown record type {kind!r}; known: tx, reward, closing"
    return None


def _require(record: Record, line: int, *names: str) -> None:
    for name in names:
        value = getattr(record, "sender" if name == "from" else name)
        if value is None or value is msgspec.UNSET:
            raise FormatError(line, f"missing field {name!r} (a {record.type} line needs it)")


def check_history(
    source: Source,
    parameters: dict | HistoryParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Check an uploaded ledger history (a path, bytes or a binary file); see the module
    docstring. A history that breaks the format raises ``jsonl.FormatError`` naming the line."""
    p = parse_parameters(HistoryParameters, parameters)
    rec = Recorder("ledger", [], p, progress)
    ledger = Ledger()
    closing: dict[str, int] | None = None
    with LineReader(source, Record, max_bytes=p.max_bytes, explain=_explain) as reader:
        header = reader.header(_decode_history_header)
        opening = _balances(header.balances, 1, "opening balance")
        nonces = {a.lower(): n for a, n in header.nonces.items()}
        for a in sorted(set(opening) | set(nonces)):
            ledger.open_account(a, opening.get(a, 0), nonces.get(a))
        last_block = header.first_block if header.first_block is not None else -1
        size = reader.size or 0
        next_report = 0.1
        for first, records in reader.chunks():
            line = first - 1
            for r in records:
                line += 1
                if closing is not None:
                    raise FormatError(line, "nothing may follow the closing line")
                kind = r.type
                if kind == "closing":
                    _require(r, line, "balances")
                    closing = _balances(r.balances, line, "closing balance")
                    continue
                if kind not in ("tx", "reward"):
                    raise FormatError(
                        line, f"unknown record type {kind!r}; known: tx, reward, closing"
                    )
                _require(r, line, "block")
                if r.block < last_block:
                    raise FormatError(
                        line,
                        f"block {r.block} comes after block {last_block}: records must be in "
                        "the order the chain executed them",
                    )
                last_block = r.block
                ledger.block(r.block)
                if kind == "reward":
                    _require(r, line, "to", "value")
                    ledger.reward(r.block, r.to.lower(), _amount(r.value, "value", line))
                    continue
                _require(r, line, "from", "nonce", "fee", "status")
                if r.to is msgspec.UNSET:
                    raise FormatError(line, "missing field 'to' (null for a contract creation)")
                ledger.transaction(
                    block=r.block,
                    sender=r.sender.lower(),
                    to=r.to.lower() if r.to else None,
                    value=_amount(r.value if r.value is not None else 0, "value", line),
                    nonce=r.nonce,
                    fee=(fee := _amount(r.fee, "fee", line)),
                    tip=_tip(r, fee, line),
                    miner=r.miner.lower() if r.miner else None,
                    ok=_status(r.status, line),
                    tx=r.hash,
                )
            if progress is not None and size and reader.bytes_read / size >= next_report:
                rec.progress(90 * reader.bytes_read / size, f"{reader.lines:,} lines read")
                next_report += 0.1
        rec.log(f"{reader.lines:,} lines, {ledger.transactions:,} transactions")
    if header.first_block is not None and ledger.first_block is not None:
        ledger.first_block = min(ledger.first_block, header.first_block)
    return ledger.result(rec, closing, "uploaded history")


def _tip(r: Record, fee: int, line: int) -> int:
    if r.tip is None:
        return 0
    tip = _amount(r.tip, "tip", line)
    if tip > fee:
        raise FormatError(line, "tip is more than the fee")
    if tip and not r.miner:
        raise FormatError(line, "a tip needs the miner it is paid to")
    return tip
