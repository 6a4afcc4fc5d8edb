"""secp256k1 signatures of Ethereum transactions: signing hashes, recovery, nonce reuse.

``signing_hash`` rebuilds the hash a sender signed from a transaction as JSON-RPC returns it
(legacy with or without EIP-155, EIP-2930, EIP-1559, EIP-4844, EIP-7702), so a signature
can be checked against the sender without trusting the node's ``from`` field.

``recover_private_key`` is the proof behind the nonce-reuse check: two signatures by one
key that share r (the same ECDSA nonce k) reveal k and then the key itself:

    s1 = k^-1 (z1 + r d),  s2 = k^-1 (z2 + r d)   (mod n)
    k  = (z1 - z2) / (s1 - s2),   d = (s1 k - z1) / r

Low-s normalisation (EIP-2) may have replaced either s by n - s, so the four sign choices
are tried and the candidate whose address is the sender's is returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rlp
from eth_account.typed_transactions import TypedTransaction
from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import keccak, to_checksum_address

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = N // 2


class UnsupportedTransaction(ValueError):
    """A transaction whose type the engine cannot rebuild the signing hash of."""


@dataclass(frozen=True)
class Signature:
    """A transaction signature as the chain carries it."""

    r: int
    s: int
    recovery_id: int  # 0 or 1
    chain_id: int | None  # the chain the signature commits to; None if unprotected
    tx_type: int

    @property
    def low_s(self) -> bool:
        return 0 < self.s <= HALF_N


def _int(value: Any) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    raise ValueError(f"not an integer: {value!r}")


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(value[2:] if value[:2] in ("0x", "0X") else value)


def tx_type(tx: dict) -> int:
    return _int(tx.get("type", 0) or 0)


def signature_of(tx: dict) -> Signature:
    """The signature fields of a JSON-RPC transaction."""
    kind = tx_type(tx)
    r, s = _int(tx["r"]), _int(tx["s"])
    if kind == 0:
        v = _int(tx["v"])
        if v in (27, 28):
            return Signature(r, s, v - 27, None, kind)
        if v >= 35:
            return Signature(r, s, (v - 35) % 2, (v - 35) // 2, kind)
        raise ValueError(f"legacy v {v} is neither 27/28 nor EIP-155")
    parity = tx.get("yParity", tx.get("v"))
    return Signature(r, s, _int(parity), _int(tx["chainId"]), kind)


def signing_hash(tx: dict) -> bytes:
    """The 32-byte hash the sender signed, rebuilt from the transaction's fields."""
    kind = tx_type(tx)
    data = tx.get("input", tx.get("data", "0x"))
    to = _bytes(tx.get("to"))
    if kind == 0:
        fields = [
            _int(tx["nonce"]),
            _int(tx["gasPrice"]),
            _int(tx["gas"]),
            to,
            _int(tx["value"]),
            _bytes(data),
        ]
        chain_id = signature_of(tx).chain_id
        if chain_id is not None:
            fields += [chain_id, 0, 0]
        return keccak(rlp.encode(fields))
    unsigned: dict[str, Any] = {
        "type": kind,
        "chainId": _int(tx["chainId"]),
        "nonce": _int(tx["nonce"]),
        "gas": _int(tx["gas"]),
        "value": _int(tx["value"]),
        "data": data,
        "accessList": tx.get("accessList") or [],
    }
    if tx.get("to"):
        unsigned["to"] = to_checksum_address(tx["to"])
    if kind == 1:
        unsigned["gasPrice"] = _int(tx["gasPrice"])
    elif kind in (2, 3, 4):
        unsigned["maxFeePerGas"] = _int(tx["maxFeePerGas"])
        unsigned["maxPriorityFeePerGas"] = _int(tx["maxPriorityFeePerGas"])
        if kind == 3:
            unsigned["maxFeePerBlobGas"] = _int(tx["maxFeePerBlobGas"])
            unsigned["blobVersionedHashes"] = tx.get("blobVersionedHashes") or []
        if kind == 4:
            unsigned["authorizationList"] = [
                {
                    "chainId": _int(a["chainId"]),
                    "address": to_checksum_address(a["address"]),
                    "nonce": _int(a["nonce"]),
                    "yParity": _int(a["yParity"]),
                    "r": _int(a["r"]),
                    "s": _int(a["s"]),
                }
                for a in tx.get("authorizationList") or []
            ]
    else:
        raise UnsupportedTransaction(f"transaction type {kind}")
    try:
        return bytes(TypedTransaction.from_dict(unsigned).hash())
    except Exception as exc:  # the library's own validation errors vary by version
        raise UnsupportedTransaction(f"type {kind}: {exc}") from None


def recover_public_key(msg_hash: bytes, r: int, s: int, recovery_id: int) -> keys.PublicKey:
    """The public key that made (r, s) over ``msg_hash``; raises ValueError if none did."""
    try:
        sig = keys.Signature(vrs=(recovery_id, r, s))
        return sig.recover_public_key_from_msg_hash(msg_hash)
    except (BadSignature, ValidationError, ValueError) as exc:
        raise ValueError(f"signature does not recover: {exc}") from None


def recover_sender(tx: dict) -> str:
    """The checksummed address whose key signed ``tx``."""
    sig = signature_of(tx)
    public = recover_public_key(signing_hash(tx), sig.r, sig.s, sig.recovery_id)
    return public.to_checksum_address()


def recover_private_key(
    z1: bytes | int, s1: int, z2: bytes | int, s2: int, r: int, address: str | None = None
) -> keys.PrivateKey:
    """The private key behind two signatures that share r (one reused nonce k).

    ``z1``/``z2`` are the signed hashes. With ``address`` the candidate whose address
    matches is returned; without it, the first candidate whose public key verifies both
    signatures. Raises ValueError when the pair does not reveal a key.
    """
    z1 = int.from_bytes(z1, "big") if isinstance(z1, bytes) else z1
    z2 = int.from_bytes(z2, "big") if isinstance(z2, bytes) else z2
    if r % N == 0:
        raise ValueError("r is zero")
    r_inv = pow(r, -1, N)
    for t1 in (s1, N - s1):
        for t2 in (s2, N - s2):
            if (t1 - t2) % N == 0:
                continue
            k = ((z1 - z2) * pow(t1 - t2, -1, N)) % N
            d = ((t1 * k - z1) * r_inv) % N
            if d == 0:
                continue
            candidate = keys.PrivateKey(d.to_bytes(32, "big"))
            if address is not None:
                if candidate.public_key.to_checksum_address() == to_checksum_address(address):
                    return candidate
            elif _verifies(candidate.public_key, z1, r, s1) and _verifies(
                candidate.public_key, z2, r, s2
            ):
                return candidate
    raise ValueError("the two signatures do not reveal a private key")


def _verifies(public: keys.PublicKey, z: int, r: int, s: int) -> bool:
    for s_candidate in (s, N - s):
        for recovery_id in (0, 1):
            try:
                recovered = recover_public_key(z.to_bytes(32, "big"), r, s_candidate, recovery_id)
            except ValueError:
                continue
            if recovered == public:
                return True
    return False
