"""Signing and verifying the canonical JSON of an evaluation with Ed25519.

Pure Python on top of ``cryptography``: nothing here knows Django, so an auditor's own
tool (or ``manage.py verify_report --offline``) can check a report with the portal's
public key alone. A signature is the base64 of the 64-byte Ed25519 signature over the
exact UTF-8 bytes of the canonical JSON; a key's fingerprint is the SHA-256 of its raw
32-byte public key, in hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

# The names of the files a report PDF embeds.
EVALUATION_ATTACHMENT = "evaluation.json"
SIGNATURE_ATTACHMENT = "signature.json"


class InvalidKey(ValueError):
    """A key could not be read: wrong format, wrong type or damaged."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sign(canonical_bytes: bytes, private_key: Ed25519PrivateKey) -> str:
    """The base64 Ed25519 signature of ``canonical_bytes``."""
    return base64.b64encode(private_key.sign(canonical_bytes)).decode("ascii")


def verify(canonical_bytes: bytes, signature: str, public_key: Ed25519PublicKey) -> bool:
    """Whether ``signature`` (base64) is ``public_key``'s signature of ``canonical_bytes``.

    A malformed signature is simply not valid: this never raises on bad input.
    """
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return False
    try:
        public_key.verify(raw, canonical_bytes)
    except (InvalidSignature, ValueError):
        return False
    return True


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )


def base64_public_key(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public_bytes(public_key)).decode("ascii")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: what the report prints next to the signature."""
    return sha256_hex(raw_public_bytes(public_key))


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    )


def _decode_text(value: str | bytes) -> bytes:
    if isinstance(value, str):
        value = value.encode("ascii", "replace")
    return value.strip()


def load_private_key(value: str | bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8), or base64 of its raw 32 bytes."""
    data = _decode_text(value)
    try:
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(data, password=None)
        else:
            raw = base64.b64decode(data, validate=True)
            if len(raw) != 32:
                raise InvalidKey("a base64 Ed25519 private key is 32 bytes")
            key = Ed25519PrivateKey.from_private_bytes(raw)
    except InvalidKey:
        raise
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidKey(f"not a readable Ed25519 private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidKey("the private key is not an Ed25519 key")
    return key


def load_public_key(value: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM (SubjectPublicKeyInfo), or base64 of its raw 32 bytes.

    A private key's PEM is accepted too: its public half is used.
    """
    data = _decode_text(value)
    try:
        if b"PRIVATE KEY" in data:
            return load_private_key(data).public_key()
        if data.startswith(b"-----BEGIN"):
            key = serialization.load_pem_public_key(data)
        else:
            raw = base64.b64decode(data, validate=True)
            if len(raw) != 32:
                raise InvalidKey("a base64 Ed25519 public key is 32 bytes")
            key = Ed25519PublicKey.from_public_bytes(raw)
    except InvalidKey:
        raise
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidKey(f"not a readable Ed25519 public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidKey("the public key is not an Ed25519 key")
    return key


def load_or_create_private_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The development key stored at ``path``; generated (mode 0600) when absent.

    Creation is exclusive (``O_EXCL``), so two processes starting at once end up with the
    same key: the loser of the race reads the winner's file.
    """
    path = Path(path)
    if path.exists():
        return load_private_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_private_key(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(key))
    return key
