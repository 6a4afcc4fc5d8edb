"""Legacy EIP-155 transactions signed in bulk, for load generation.

``accounts.sign`` goes through ``eth_account``, which validates and normalises every field
of every transaction (about 0.4 ms each); a load test signs tens of thousands of
transactions that differ only in nonce and call data, so ``LegacySigner`` encodes them
directly: RLP of ``[nonce, gasPrice, gas, to, value, data, chainId, 0, 0]``, Keccak-256,
and a recoverable secp256k1 signature from libsecp256k1 (``coincurve``: RFC 6979
deterministic nonces and low-s, as ``eth_keys`` uses it). The result is byte for byte what
``accounts.sign`` produces for the same fields (a test holds it to that), in a tenth of the
time. Field values are checked once per call, cheaply: non-negative integers and a 20-byte
recipient.
"""

from __future__ import annotations

from coincurve import PrivateKey
from eth_hash.auto import keccak

from .accounts import SignedTx


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


def rlp_bytes(value: bytes) -> bytes:
    """RLP of a byte string."""
    if len(value) == 1 and value[0] < 0x80:
        return value
    return _length_prefix(len(value), 0x80) + value


def rlp_int(value: int) -> bytes:
    """RLP of a non-negative integer (big-endian, no leading zeros)."""
    if value < 0:
        raise ValueError("RLP integers are non-negative")
    return rlp_bytes(value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b"")


def rlp_list(encoded_items: list[bytes]) -> bytes:
    """RLP of a list whose items are already RLP-encoded."""
    payload = b"".join(encoded_items)
    return _length_prefix(len(payload), 0xC0) + payload


def _address_bytes(to: str | bytes | None) -> bytes:
    if to is None:
        return b""
    raw = bytes.fromhex(to[2:] if to[:2] in ("0x", "0X") else to) if isinstance(to, str) else to
    if len(raw) != 20:
        raise ValueError(f"a recipient address is 20 bytes, not {len(raw)}")
    return raw


class LegacySigner:
    """Signs legacy EIP-155 transactions for one account on one chain."""

    def __init__(self, private_key: bytes, address: str, chain_id: int):
        if chain_id <= 0:
            raise ValueError("an EIP-155 chain id is positive")
        self._key = PrivateKey(bytes(private_key))
        self.address = address
        self.chain_id = chain_id
        self._chain_suffix = rlp_int(chain_id) + b"\x80\x80"

    def sign(
        self,
        *,
        nonce: int,
        gas_price: int,
        gas: int,
        to: str | None,
        value: int = 0,
        data: bytes = b"",
    ) -> SignedTx:
        fields = (
            rlp_int(nonce)
            + rlp_int(gas_price)
            + rlp_int(gas)
            + rlp_bytes(_address_bytes(to))
            + rlp_int(value)
            + rlp_bytes(bytes(data))
        )
        unsigned = rlp_list([fields, self._chain_suffix])
        signature = self._key.sign_recoverable(keccak(unsigned), hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = signature[64] + 35 + 2 * self.chain_id
        raw = rlp_list([fields, rlp_int(v), rlp_int(r), rlp_int(s)])
        return SignedTx(
            raw="0x" + raw.hex(),
            hash="0x" + keccak(raw).hex(),
            sender=self.address,
            nonce=nonce,
            to=to,
            value=value,
            gas=gas,
            gas_price=gas_price,
        )
