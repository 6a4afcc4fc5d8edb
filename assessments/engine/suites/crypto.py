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
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from .. import ecdsa
from ..errors import NonConformingNode
from ..results import Progress, Recorder, SuiteResult, Target, parse_parameters, require
from ..rpc import quantity
from .common import checked_block, client, head


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

    def validate(self) -> None:
        require(0 <= self.blocks <= 100_000, "blocks must be between 0 and 100000")
        require(1 <= self.max_transactions <= 100_000, "max_transactions must be 1-100000")


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
        rec.progress(70, f"checking {len(txs)} signatures")
        _judge(rpc.endpoint, txs, chain_id, node_chain, p, rec)
    return rec.finish()


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


def _judge(endpoint, txs, chain_id, node_chain, p: CryptoParameters, rec: Recorder) -> None:
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
            unrecoverable.append({"tx": h, "reason": str(exc)})
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
            high_s.append({"tx": h, "s": hex(sig.s)})
        if sig.chain_id is None:
            unprotected.append({"tx": h, "type": sig.tx_type, "v": tx.get("v")})
        elif sig.chain_id != chain_id:
            wrong_chain.append({"tx": h, "signed_for": sig.chain_id, "chain": chain_id})
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
    rec.check(
        "signatures_recover",
        None if empty else not (mismatched or unrecoverable),
        "every signature recovers to the transaction's sender",
        judged=judged,
        mismatched=mismatched[:20],
        unrecoverable=unrecoverable[:20],
        unsupported=unsupported[:20],
    )
    rec.check(
        "low_s",
        None if empty else not high_s,
        "every signature has s <= n/2 (EIP-2)",
        high_s=high_s[:20],
    )
    rec.check(
        "replay_protection",
        None if empty else not wrong_chain and not (p.require_replay_protection and unprotected),
        f"every signature commits to chain id {chain_id} (EIP-155)",
        chain_id=chain_id,
        unprotected=unprotected[:20],
        wrong_chain=wrong_chain[:20],
    )
    rec.check(
        "nonce_reuse",
        None if empty else not reuses,
        "no key signed two transactions with one ECDSA nonce (repeated r)",
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
