"""Crypto suite: are the chain's transaction signatures sound?

Samples the transactions of the latest ``blocks`` blocks of the target's first endpoint
(newest first, at most ``max_transactions``, plus any hashes given in ``transactions``),
rebuilds each signing hash from the transaction's own fields, and guarantees these checks:

- ``signatures_recover``: every signature recovers to the transaction's ``from``;
- ``low_s``: every s is at most n/2 (EIP-2), so no signature is malleable;
- ``replay_protection``: every signature commits to the chain's id (EIP-155 for legacy
  transactions, the chainId field for typed ones), and that id is the node's
  ``eth_chainId`` (or ``chain_id`` when given);
- ``nonce_reuse``: no key signed two transactions with one ECDSA nonce (a repeated r).
  A reuse is proven by recovering the private key from the pair (``ecdsa.recover_private_key``);
  the evidence names the sender, both transactions and the recovered key's address, never
  the key itself.

Transactions of a type the engine cannot rebuild are counted, not judged.

Enough to judge: when the window holds fewer than ``min_signatures`` transactions (a quiet
chain) and the target has a faucet key, the suite generates its own signed traffic: it
funds one fresh test account from the faucet, sends ``generate_transactions`` small
transfers from it back to the faucet, checks those signatures as the node reports them,
and returns what is left to the faucet. Without a faucet key, or when the traffic cannot
be mined (a stalled chain), the checks are not judged and their message says why; a suite
with every check not judged is "not_judged", never passed. Each failed check's message
names the transaction hash and its sender.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from eth_account import Account

from .. import accounts as acc
from .. import ecdsa
from ..errors import EngineError, NonConformingNode
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import RpcClient, quantity
from .common import checked_block, client, head, names, short


@dataclass(frozen=True)
class CryptoParameters:
    blocks: int = 200
    """How many of the latest blocks to sample transactions from."""
    max_transactions: int = 1000
    """The most transactions checked (the newest ones)."""
    transactions: tuple[str, ...] = ()
    """Transaction hashes to check in addition to the sampled ones."""
    chain_id: int | None = None
    """The chain id signatures must commit to; None takes the node's eth_chainId."""
    require_replay_protection: bool = True
    """Fail a signature that commits to no chain id (legacy, pre-EIP-155)."""
    min_signatures: int = 3
    """Fewer transactions than this in the window: generate traffic (with a faucet key)."""
    generate_transactions: int = 3
    """Transfers the suite signs and sends on a quiet chain (0: never generate)."""
    traffic_timeout_s: float = 30.0
    """How long the generated traffic (and its funding) may take to be mined."""
    gas_price_multiplier: float = 2.0
    """The generated transfers pay the node's gas price times this."""

    def validate(self) -> None:
        require(0 <= self.blocks <= 100_000, "blocks must be between 0 and 100000")
        require(1 <= self.max_transactions <= 100_000, "max_transactions must be 1-100000")
        require(0 <= self.min_signatures <= 1000, "min_signatures must be 0-1000")
        require(0 <= self.generate_transactions <= 50, "generate_transactions must be 0-50")
        require(0 < self.traffic_timeout_s <= 600, "traffic_timeout_s must be 0-600")
        require(1 <= self.gas_price_multiplier <= 10, "gas_price_multiplier must be 1-10")


def run(
    target: Target,
    parameters: dict | CryptoParameters | None = None,
    progress: Progress | None = None,
) -> SuiteResult:
    """Run the crypto suite against ``target.endpoints[0]``; see the module docstring."""
    p = parse_parameters(CryptoParameters, parameters)
    rec = Recorder("crypto", target, p, progress)
    with client(target) as rpc:
        node_chain = quantity(rpc.call("eth_chainId"), "eth_chainId", rpc.endpoint)
        chain_id = p.chain_id if p.chain_id is not None else node_chain
        txs = _sample(rpc, p, rec)
        quiet = ""
        if len(txs) < p.min_signatures:
            quiet = _generate(rpc, target, node_chain, txs, p, rec)
        rec.progress(70, f"checking {len(txs)} signatures")
        _judge(rpc.endpoint, txs, chain_id, node_chain, p, rec, quiet)
    return rec.finish()


def _generate(rpc: RpcClient, target: Target, chain: int, txs: list, p, rec: Recorder) -> str:
    """Sign and send traffic on a quiet chain; add it to ``txs``. Returns why it failed."""
    found = f"{len(txs)} transaction(s) in the latest {p.blocks} blocks"
    if p.generate_transactions == 0:
        return f"{found}, and generating traffic is switched off"
    if not target.faucet_key:
        return f"{found}, and no faucet key to generate signed traffic"
    rec.progress(62, f"quiet chain ({found}): sending {p.generate_transactions} transfers")
    wallet = acc.new_accounts(1)
    sender = wallet[0]
    try:
        faucet = Account.from_key(target.faucet_key).address
    except (ValueError, TypeError):
        return f"{found}, and the faucet key is not a private key"
    price = 0
    hashes: list[str] = []
    try:
        price = acc.gas_price(rpc, p.gas_price_multiplier)
        budget = p.generate_transactions * (acc.TRANSFER_GAS * price + 1)
        acc.fund(
            rpc,
            target.faucet_key,
            [sender.address],
            budget,
            chain=chain,
            price=price,
            timeout=p.traffic_timeout_s,
        )
        for nonce in range(p.generate_transactions):
            tx = acc.sign(sender, nonce=nonce, chain_id=chain, gas_price=price, to=faucet, value=1)
            acc.send_raw(rpc, tx)
            hashes.append(tx.hash)
        acc.wait_receipts(rpc, hashes, p.traffic_timeout_s)
        for h in hashes:
            tx = rpc.call("eth_getTransactionByHash", h)
            if isinstance(tx, dict):
                txs.append(tx)
    except acc.FundingFailed as exc:
        # Nothing mined (a stalled chain) or a poor faucet: the suite judges what it has.
        rec.log(f"funding the generated traffic failed: {exc}")
        return (
            f"{found}, and funding its own traffic failed within {p.traffic_timeout_s:g} s: {exc}"
        )
    except EngineError as exc:
        rec.log(f"generating traffic failed: {exc}")
        if not hashes:
            return f"{found}, and generating traffic failed: {exc}"
    finally:
        _return_funds(rpc, wallet, faucet, chain, price, p, rec)
    rec.result.metrics["generated_transactions"] = hashes
    if not any(t.get("hash") in hashes for t in txs):
        return f"{found}, and the node does not report the {len(hashes)} transfer(s) sent"
    return ""


def _return_funds(rpc, wallet, faucet: str, chain: int, price: int, p, rec: Recorder) -> None:
    if not price:
        return
    try:
        returned = acc.sweep(rpc, wallet, faucet, chain=chain, price=price, timeout=5.0)
    except EngineError as exc:
        rec.log(f"could not return the generated traffic's funds: {exc}")
    else:
        rec.log(f"returned {returned} wei to the faucet")


def _sample(rpc, p: CryptoParameters, rec: Recorder) -> list[dict]:
    txs: dict[str, dict] = {}
    for h in p.transactions:
        tx = rpc.call("eth_getTransactionByHash", h)
        if tx is None:
            rec.log(f"transaction {h} is unknown to the node")
            continue
        txs[tx["hash"]] = tx
    top = head(rpc)
    n = top
    lowest = max(0, top - p.blocks + 1)
    while n >= lowest and len(txs) < p.max_transactions + len(p.transactions):
        numbers = list(range(n, max(lowest, n - 49) - 1, -1))
        blocks = rpc.batch([("eth_getBlockByNumber", (hex(b), True)) for b in numbers])
        for number, block in zip(numbers, blocks, strict=True):
            if block is None:
                continue
            for tx in checked_block(block, rpc.endpoint, number)["transactions"]:
                if not isinstance(tx, dict):
                    raise NonConformingNode(rpc.endpoint, f"block {number} gave a hash, not a tx")
                txs.setdefault(tx.get("hash"), tx)
        n = numbers[-1] - 1
        done = (top - n) / max(1, top - lowest + 1)
        rec.progress(60 * done)
    return list(txs.values())[: p.max_transactions + len(p.transactions)]


def _judge(
    endpoint, txs, chain_id, node_chain, p: CryptoParameters, rec: Recorder, quiet: str = ""
) -> None:
    mismatched, unrecoverable, high_s, unprotected, wrong_chain, unsupported = (
        [] for _ in range(6)
    )
    by_key_r: dict[tuple[str, int], list[tuple[dict, bytes, ecdsa.Signature]]] = defaultdict(list)
    by_r: dict[int, set[str]] = defaultdict(set)
    judged = 0
    for tx in txs:
        h = tx.get("hash")
        try:
            sig = ecdsa.signature_of(tx)
            z = ecdsa.signing_hash(tx)
        except ecdsa.UnsupportedTransaction as exc:
            unsupported.append({"tx": h, "reason": str(exc)})
            continue
        except (KeyError, ValueError, TypeError) as exc:
            raise NonConformingNode(endpoint, f"transaction {h} is malformed: {exc}") from None
        judged += 1
        sender = str(tx.get("from", "")).lower()
        try:
            recovered = ecdsa.recover_public_key(z, sig.r, sig.s, sig.recovery_id)
        except ValueError as exc:
            unrecoverable.append({"tx": h, "from": tx.get("from"), "reason": str(exc)})
        else:
            if recovered.to_checksum_address().lower() != sender:
                mismatched.append(
                    {
                        "tx": h,
                        "from": tx.get("from"),
                        "recovers_to": recovered.to_checksum_address(),
                    }
                )
        if not sig.low_s:
            high_s.append({"tx": h, "from": tx.get("from"), "s": hex(sig.s)})
        if sig.chain_id is None:
            unprotected.append(
                {"tx": h, "from": tx.get("from"), "type": sig.tx_type, "v": tx.get("v")}
            )
        elif sig.chain_id != chain_id:
            wrong_chain.append(
                {"tx": h, "from": tx.get("from"), "signed_for": sig.chain_id, "chain": chain_id}
            )
        by_key_r[(sender, sig.r)].append((tx, z, sig))
        by_r[sig.r].add(sender)

    reuses = [
        _prove_reuse(sender, r, found)
        for (sender, r), found in by_key_r.items()
        if len({t["hash"] for t, _, _ in found}) > 1
    ]
    shared_r = [{"r": hex(r), "senders": sorted(s)} for r, s in by_r.items() if len(s) > 1]

    rec.result.metrics.update(
        {
            "endpoint": endpoint,
            "chain_id": chain_id,
            "node_chain_id": node_chain,
            "transactions_sampled": len(txs),
            "signatures_judged": judged,
            "unsupported_types": len(unsupported),
            "recover_failures": len(mismatched) + len(unrecoverable),
            "high_s": len(high_s),
            "unprotected": len(unprotected),
            "wrong_chain_id": len(wrong_chain),
            "nonce_reuses": len(reuses),
            "keys_recovered": sum(1 for r in reuses if r["key_recovered"]),
            "r_shared_across_senders": len(shared_r),
        }
    )
    types: dict[int, int] = defaultdict(int)
    for tx in txs:
        types[ecdsa.tx_type(tx)] += 1
    rec.result.charts["transaction_types"] = [[t, c] for t, c in sorted(types.items())]
    empty = judged == 0
    why = ""
    if empty:
        why = "no signature to judge: " + (
            quiet or f"{len(txs)} transaction(s) sampled, none of a type the engine rebuilds"
        )
    of = f" ({{}} of {judged} signatures)"
    recover_message = why
    if mismatched:
        m = mismatched[0]
        recover_message = (
            f"transaction {m['tx']} from {m['from']} carries a signature that recovers to "
            f"{m['recovers_to']}, not to its sender"
            + of.format(len(mismatched) + len(unrecoverable))
        )
    elif unrecoverable:
        u = unrecoverable[0]
        recover_message = (
            f"the signature of transaction {u['tx']} from {u['from']} recovers to no key "
            f"({u['reason']})" + of.format(len(unrecoverable))
        )
    high_message = why
    if high_s:
        x = high_s[0]
        high_message = (
            f"transaction {x['tx']} from {x['from']} has a high s (above n/2): a malleable "
            f"signature EIP-2 forbids" + of.format(len(high_s))
        )
    replay_message = why
    if wrong_chain:
        w = wrong_chain[0]
        replay_message = (
            f"transaction {w['tx']} from {w['from']} is signed for chain id "
            f"{w['signed_for']}, not {chain_id}" + of.format(len(wrong_chain))
        )
    elif unprotected and p.require_replay_protection:
        u = unprotected[0]
        replay_message = (
            f"transaction {u['tx']} from {u['from']} commits to no chain id (EIP-155 "
            f"missing, v = {int(str(u['v']), 0) if u['v'] is not None else 'none'}): it can be "
            f"replayed on any chain" + of.format(len(unprotected))
        )
    reuse_message = why
    if reuses:
        r = reuses[0]
        proof = (
            f"the private key recovered from the pair belongs to {r['recovered_key_address']}"
            if r["key_recovered"]
            else f"the key could not be recovered ({r.get('recovery_error')})"
        )
        pair = names([str(h) for h in r["transactions"]])
        reuse_message = (
            f"{r['sender']} signed transactions {pair} with one ECDSA "
            f"nonce (repeated r {short(r['r'])}); {proof}"
            + ("" if len(reuses) == 1 else f" ({len(reuses)} reuses)")
        )
    rec.check(
        "signatures_recover",
        None if empty else not (mismatched or unrecoverable),
        "every signature recovers to the transaction's sender",
        message=recover_message,
        judged=judged,
        mismatched=mismatched[:20],
        unrecoverable=unrecoverable[:20],
        unsupported=unsupported[:20],
    )
    rec.check(
        "low_s",
        None if empty else not high_s,
        "every signature has s <= n/2 (EIP-2)",
        message=high_message,
        high_s=high_s[:20],
    )
    rec.check(
        "replay_protection",
        None if empty else not wrong_chain and not (p.require_replay_protection and unprotected),
        f"every signature commits to chain id {chain_id} (EIP-155)",
        message=replay_message,
        chain_id=chain_id,
        unprotected=unprotected[:20],
        wrong_chain=wrong_chain[:20],
    )
    rec.check(
        "nonce_reuse",
        None if empty else not reuses,
        "no key signed two transactions with one ECDSA nonce (repeated r)",
        message=reuse_message,
        reuses=reuses[:20],
        r_shared_across_senders=shared_r[:20],
    )


def _prove_reuse(sender: str, r: int, found: list) -> dict:
    """Evidence of one reuse, with the private key recovered from the first two signatures."""
    (tx1, z1, s1), (_, z2, s2) = found[0], found[1]
    evidence = {
        "sender": tx1.get("from"),
        "r": hex(r),
        "transactions": [t.get("hash") for t, _, _ in found],
        "key_recovered": False,
    }
    try:
        key = ecdsa.recover_private_key(z1, s1.s, z2, s2.s, r, address=sender)
    except ValueError as exc:
        evidence["recovery_error"] = str(exc)
        return evidence
    evidence.update(
        {
            "key_recovered": True,
            "recovered_key_address": key.public_key.to_checksum_address(),
            "recovered_key_sha256": hashlib.sha256(key.to_bytes()).hexdigest(),
        }
    )
    return evidence
