"""Signing and key handling, without Django or a PDF."""

import base64
import os
import stat

import pytest

from assessments.reports import integrity

PAYLOAD = b'{"evaluation":{"id":1,"version":1},"overall_score":85.5}'


@pytest.fixture(scope="module")
def key():
    return integrity.generate_private_key()


def test_it_verifies_its_own_signature(key):
    signature = integrity.sign(PAYLOAD, key)
    assert len(base64.b64decode(signature)) == 64
    assert integrity.verify(PAYLOAD, signature, key.public_key())


def test_it_signs_the_same_bytes_the_same_way(key):
    assert integrity.sign(PAYLOAD, key) == integrity.sign(PAYLOAD, key)


def test_it_refuses_a_payload_with_one_byte_changed(key):
    signature = integrity.sign(PAYLOAD, key)
    altered = PAYLOAD.replace(b"85.5", b"95.5")
    assert not integrity.verify(altered, signature, key.public_key())


def test_it_refuses_a_signature_made_by_another_key(key):
    other = integrity.generate_private_key()
    assert not integrity.verify(PAYLOAD, integrity.sign(PAYLOAD, other), key.public_key())


@pytest.mark.parametrize("signature", ["", "not base64!", base64.b64encode(b"short").decode()])
def test_it_treats_a_malformed_signature_as_invalid(key, signature):
    assert integrity.verify(PAYLOAD, signature, key.public_key()) is False


def test_it_loads_keys_from_pem_and_from_base64(key):
    pem = integrity.private_key_pem(key)
    raw = base64.b64encode(key.private_bytes_raw()).decode()
    for loaded in (integrity.load_private_key(pem), integrity.load_private_key(raw)):
        assert integrity.fingerprint(loaded.public_key()) == integrity.fingerprint(key.public_key())
    public_pem = integrity.public_key_pem(key.public_key())
    public_raw = integrity.base64_public_key(key.public_key())
    for text in (public_pem, public_raw, pem):
        assert integrity.fingerprint(integrity.load_public_key(text)) == integrity.fingerprint(
            key.public_key()
        )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "definitely not a key",
        base64.b64encode(b"sixteen bytes!!!").decode(),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_it_refuses_what_is_not_an_ed25519_key(text):
    with pytest.raises(integrity.InvalidKey):
        integrity.load_private_key(text)
    with pytest.raises(integrity.InvalidKey):
        integrity.load_public_key(text)


def test_it_refuses_a_key_of_another_algorithm():
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    pem = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(integrity.InvalidKey):
        integrity.load_private_key(pem)


def test_the_fingerprint_is_the_sha256_of_the_raw_public_key(key):
    fingerprint = integrity.fingerprint(key.public_key())
    assert len(fingerprint) == 64
    assert fingerprint == integrity.sha256_hex(integrity.raw_public_bytes(key.public_key()))


def test_it_generates_a_development_key_once_with_owner_only_permissions(tmp_path):
    path = tmp_path / "nested" / "report-signing-key.pem"
    first = integrity.load_or_create_private_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    second = integrity.load_or_create_private_key(path)
    assert integrity.fingerprint(first.public_key()) == integrity.fingerprint(second.public_key())
