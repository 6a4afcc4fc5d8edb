"""The engine's own test accounts: created per run, funded from a faucet, audited.

Suites that send transactions never use the firm's keys. They create fresh accounts,
fund them from the faucet account whose private key the caller passes, and keep a
``Ledger`` of every wei that entered the test accounts and every wei of gas they paid, so
value conservation can be checked exactly: after the run, the accounts' balances must
equal what was funded, minus the fees the receipts show, minus what was sent out of the
set on purpose.

Transactions are legacy EIP-155 ones: every Ethereum-compatible chain takes them, their fee
is exactly gasUsed * gasPrice, and they commit to the chain id.
"""

from __future__ import annotations

import contextlib
import datetime
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from .errors import EngineError, RpcError
from .rpc import RpcClient, quantity

TRANSFER_GAS = 21_000


class FundingFailed(EngineError):
    """The faucet could not fund the test accounts (too poor, or its transactions failed).

    ``kind`` says whose fault it is. ``"setup"``: the faucet key or its balance, the
    caller's problem. ``"not_mined"``: the node took the funding transactions but included
    none or only some of them (``stalled`` tells whether any block was produced at all);
    ``"reverted"``: they were mined but failed. Those two are faults of the system under
    test: a suite records them as a failed check with ``str(exc)`` as its message and
    ``evidence`` beside it, instead of raising.
    """

    def __init__(self, message: str, *, kind: str = "setup", evidence: dict | None = None):
        super().__init__(message)
        self.kind = kind
        self.evidence = evidence or {}

    @property
    def of_the_system(self) -> bool:
        """True when the system under test caused it (not mined, or reverted)."""
        return self.kind in ("not_mined", "reverted")


@dataclass(frozen=True)
class SignedTx:
    raw: str
    hash: str
    sender: str
    nonce: int
    to: str | None
    value: int
    gas: int
    gas_price: int


def new_accounts(count: int) -> list[LocalAccount]:
    """``count`` fresh accounts with random keys; they hold nothing until funded."""
    return [Account.from_key(secrets.token_bytes(32)) for _ in range(count)]


def sign(
    account: LocalAccount,
    *,
    nonce: int,
    chain_id: int,
    gas_price: int,
    to: str | None,
    value: int = 0,
    gas: int = TRANSFER_GAS,
    data: bytes | str = b"",
) -> SignedTx:
    """A signed legacy EIP-155 transaction (``to=None`` deploys ``data`` as a contract)."""
    tx: dict[str, Any] = {
        "nonce": nonce,
        "gasPrice": gas_price,
        "gas": gas,
        "value": value,
        "data": data,
        "chainId": chain_id,
    }
    if to is not None:
        tx["to"] = to_checksum_address(to)
    signed = account.sign_transaction(tx)
    return SignedTx(
        raw="0x" + bytes(signed.raw_transaction).hex(),
        hash="0x" + bytes(signed.hash).hex(),
        sender=account.address,
        nonce=nonce,
        to=tx.get("to"),
        value=value,
        gas=gas,
        gas_price=gas_price,
    )


def gas_price(rpc: RpcClient, multiplier: float) -> int:
    """The node's suggested gas price times ``multiplier`` (headroom for rising base fees)."""
    return int(quantity(rpc.call("eth_gasPrice"), "eth_gasPrice", rpc.endpoint) * multiplier)


def chain_id(rpc: RpcClient) -> int:
    return quantity(rpc.call("eth_chainId"), "eth_chainId", rpc.endpoint)


def nonce_of(rpc: RpcClient, address: str, block: str = "pending") -> int:
    return quantity(
        rpc.call("eth_getTransactionCount", address, block), "transaction count", rpc.endpoint
    )


def balances(rpc: RpcClient, addresses: Sequence[str], block: str = "latest") -> dict[str, int]:
    """Balances in wei, read in one batch at one block."""
    if not addresses:
        return {}
    results = rpc.batch([("eth_getBalance", (a, block)) for a in addresses])
    return {
        a: quantity(r, f"balance of {a}", rpc.endpoint)
        for a, r in zip(addresses, results, strict=True)
    }


def send_raw(rpc: RpcClient, tx: SignedTx) -> str:
    """Send once (never retried); returns the hash the node reports."""
    return rpc.call("eth_sendRawTransaction", tx.raw)


def wait_receipts(
    rpc: RpcClient, hashes: Iterable[str], timeout: float, poll: float = 0.05
) -> dict[str, dict | None]:
    """Receipts of ``hashes`` (None for any still missing after ``timeout`` seconds)."""
    pending = list(dict.fromkeys(hashes))
    found: dict[str, dict | None] = dict.fromkeys(pending)
    deadline = time.monotonic() + timeout
    while pending:
        results = rpc.batch(
            [("eth_getTransactionReceipt", (h,)) for h in pending], raise_errors=False
        )
        still = []
        for h, r in zip(pending, results, strict=True):
            if isinstance(r, dict):
                found[h] = r
            else:
                still.append(h)
        pending = still
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(poll)
    return found


def fee_paid(receipt: dict, gas_price_signed: int, endpoint: str) -> int:
    """Wei the sender paid for a mined transaction: gasUsed * effective gas price."""
    used = quantity(receipt.get("gasUsed"), "receipt gasUsed", endpoint)
    price = receipt.get("effectiveGasPrice")
    return used * (quantity(price, "effectiveGasPrice", endpoint) if price else gas_price_signed)


def succeeded(receipt: dict | None) -> bool:
    return bool(receipt) and receipt.get("status") in ("0x1", "0x01", 1)


@dataclass
class Ledger:
    """Every wei in and out of the test accounts, for the value-conservation check."""

    accounts: list[str] = field(default_factory=list)
    funded: int = 0
    fees: int = 0
    sent_out: int = 0  # value deliberately sent to addresses outside the set

    def expected_total(self) -> int:
        return self.funded - self.fees - self.sent_out

    def conservation(self, rpc: RpcClient, extra: Sequence[str] = ()) -> dict[str, Any]:
        """Compare the accounts' (and ``extra`` contracts') balances with the ledger."""
        observed = balances(rpc, [*self.accounts, *extra])
        total = sum(observed.values())
        expected = self.expected_total()
        return {
            "funded_wei": str(self.funded),
            "fees_wei": str(self.fees),
            "sent_out_wei": str(self.sent_out),
            "expected_total_wei": str(expected),
            "observed_total_wei": str(total),
            "difference_wei": str(total - expected),
            "accounts": len(self.accounts) + len(extra),
        }


def fund(
    rpc: RpcClient,
    faucet_key: str,
    addresses: Sequence[str],
    amount: int,
    *,
    chain: int,
    price: int,
    timeout: float,
    ledger: Ledger | None = None,
) -> None:
    """Send ``amount`` wei from the faucet to each address and wait until all are mined."""
    try:
        faucet = Account.from_key(faucet_key)
    except (ValueError, TypeError) as exc:
        raise FundingFailed(f"the faucet key is not a private key: {exc}") from None
    need = len(addresses) * (amount + TRANSFER_GAS * price)
    have = balances(rpc, [faucet.address])[faucet.address]
    if have < need:
        raise FundingFailed(f"the faucet {faucet.address} holds {have} wei and needs {need}")
    nonce = nonce_of(rpc, faucet.address)
    txs = [
        sign(faucet, nonce=nonce + i, chain_id=chain, gas_price=price, to=a, value=amount)
        for i, a in enumerate(addresses)
    ]
    start_height = _head(rpc)
    started = time.monotonic()
    # One request each, in nonce order: a node may process a batch in any order, and one
    # that mines each transaction at once refuses a nonce that arrives early.
    for tx in txs:
        try:
            send_raw(rpc, tx)
        except RpcError as exc:
            raise FundingFailed(f"funding {tx.to} was refused: {exc.message}") from None
    receipts = wait_receipts(rpc, [t.hash for t in txs], timeout / 2)
    missing = [h for h, r in receipts.items() if r is None]
    if missing:
        # A node's pool can strand a transaction it accepted (ganache 7.9.2 does, rarely,
        # under interval mining, while later blocks come and go empty); a wallet sends it
        # again. The same signed bytes cannot spend twice: their nonce is fixed.
        resend = set(missing)
        for tx in txs:
            if tx.hash in resend:
                # "already known", or mined meanwhile: the receipts will tell.
                with contextlib.suppress(RpcError):
                    send_raw(rpc, tx)
        receipts.update(wait_receipts(rpc, missing, timeout / 2))
        missing = [h for h, r in receipts.items() if r is None]
    if missing:
        raise not_mined(rpc, "funding", missing, len(txs), start_height, time.monotonic() - started)
    reverted = {h: r for h, r in receipts.items() if not succeeded(r)}
    if reverted:
        first_hash, first = next(iter(reverted.items()))
        height = _decimal(first.get("blockNumber"))
        raise FundingFailed(
            f"{len(reverted)} of {len(txs)} funding transactions were mined but reverted "
            f"(status {first.get('status')!r}), the first {first_hash} at height {height}",
            kind="reverted",
            evidence={
                "reverted": [
                    {"tx": h, "height": _decimal(r.get("blockNumber")), "status": r.get("status")}
                    for h, r in reverted.items()
                ]
            },
        )
    if ledger is not None:
        ledger.accounts.extend(a for a in addresses if a not in ledger.accounts)
        ledger.funded += amount * len(addresses)


def _head(rpc: RpcClient) -> int:
    return quantity(rpc.call("eth_blockNumber"), "eth_blockNumber", rpc.endpoint)


def _decimal(value: Any) -> int | None:
    """A hex quantity from an answer as a decimal int (None if it is not one)."""
    try:
        return int(value, 16) if isinstance(value, str) else None
    except ValueError:
        return None


def stall_sentence(rpc: RpcClient, height: int, waited_s: float) -> tuple[str, dict[str, Any]]:
    """("no block produced for N s since height H (last block at T UTC)", evidence).

    ``waited_s`` is how long the engine watched the head stay at ``height``; T is the
    block's own timestamp, when the node gives it.
    """
    stamp = None
    try:
        block = rpc.call("eth_getBlockByNumber", hex(height), False)
        if isinstance(block, dict):
            stamp = quantity(block.get("timestamp"), "block timestamp", rpc.endpoint)
    except EngineError:
        pass  # the sentence says the time is unknown
    when = "unknown"
    if stamp is not None:
        moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
        when = f"{moment:%Y-%m-%d %H:%M:%S} UTC"
    sentence = (
        f"no block produced for {waited_s:.0f} s since height {height} (last block at {when})"
    )
    evidence = {
        "stalled_at_height": height,
        "last_block_time": when,
        "waited_s": round(waited_s, 3),
    }
    return sentence, evidence


def not_mined(
    rpc: RpcClient, what: str, missing: Sequence[str], total: int, start_height: int, waited: float
) -> FundingFailed:
    """The error for ``missing`` transactions never included: a stall, or left out of blocks."""
    try:
        height = _head(rpc)
    except EngineError:
        height = start_height
    evidence: dict[str, Any] = {"not_mined": list(missing), "sent": total}
    if height <= start_height:
        sentence, more = stall_sentence(rpc, height, waited)
        evidence.update(more, stalled=True)
        message = f"{sentence}: {len(missing)} of {total} {what} transactions were not mined"
    else:
        evidence.update(stalled=False, heights=[start_height + 1, height])
        message = (
            f"{len(missing)} of {total} {what} transactions were not included in {waited:.0f} s "
            f"although blocks {start_height + 1}-{height} were produced "
            f"(the first missing: {missing[0]})"
        )
    return FundingFailed(message, kind="not_mined", evidence=evidence)


def sweep(
    rpc: RpcClient,
    accounts: Sequence[LocalAccount],
    to: str,
    *,
    chain: int,
    price: int,
    timeout: float,
    next_nonces: Mapping[str, int] | None = None,
) -> int:
    """Return what the test accounts hold to ``to`` (the faucet); best effort.

    Returns the wei sent back. Accounts too poor to pay the fee are left as they are.
    ``next_nonces`` (address -> the nonce after the last transaction the caller handed to
    the node) leaves out an account whose chain nonce is behind it: one of its transactions
    was lost on the way, so later ones wait in the node's queue behind the gap, and a refund
    signed with the gap's nonce would release them against a balance nobody knows.
    """
    settled = _settled(rpc, accounts, timeout)
    if next_nonces:
        settled = [
            (account, nonce)
            for account, nonce in settled
            if nonce >= next_nonces.get(account.address, 0)
        ]
    held = balances(rpc, [a.address for a, _ in settled])
    txs = []
    for account, nonce in settled:
        value = held[account.address] - TRANSFER_GAS * price
        if value > 0:
            txs.append(
                sign(account, nonce=nonce, chain_id=chain, gas_price=price, to=to, value=value)
            )
    if not txs:
        return 0
    for chunk in _chunks(txs, 200):
        rpc.batch([("eth_sendRawTransaction", (t.raw,)) for t in chunk], raise_errors=False)
    receipts = wait_receipts(rpc, [t.hash for t in txs], timeout)
    return sum(t.value for t in txs if succeeded(receipts.get(t.hash)))


def _settled(
    rpc: RpcClient, accounts: Sequence[LocalAccount], timeout: float, poll: float = 0.1
) -> list[tuple[LocalAccount, int]]:
    """Accounts with no transaction still pending, with their next nonce.

    Waits up to ``timeout`` for pending transactions to be mined; an account that still has
    one is left out, since its balance is not yet known.
    """
    deadline = time.monotonic() + timeout
    while True:
        calls = [
            ("eth_getTransactionCount", (a.address, tag))
            for a in accounts
            for tag in ("latest", "pending")
        ]
        counts = [quantity(c, "transaction count", rpc.endpoint) for c in rpc.batch(calls)]
        pairs = list(zip(counts[::2], counts[1::2], strict=True))
        if all(latest == pending for latest, pending in pairs) or time.monotonic() >= deadline:
            return [
                (a, latest)
                for a, (latest, pending) in zip(accounts, pairs, strict=True)
                if latest == pending
            ]
        time.sleep(poll)


def _chunks(items: Sequence, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]
