"""The portal's report signing key and the public key reports are verified with.

``REPORT_SIGNING_KEY`` (PEM or base64) signs; unset, a development key is generated on
first use into ``REPORT_SIGNING_KEY_FILE`` (mode 0600, under ``var/``, never committed)
and reused. ``REPORT_PUBLIC_KEY`` verifies; unset, it is the signing key's public half.
"""

from functools import lru_cache

from django.conf import settings

from . import integrity


@lru_cache(maxsize=4)
def _private_key(configured, path):
    if configured:
        return integrity.load_private_key(configured)
    return integrity.load_or_create_private_key(path)


def signing_key():
    """The Ed25519 private key that signs reports."""
    return _private_key(settings.REPORT_SIGNING_KEY, str(settings.REPORT_SIGNING_KEY_FILE))


def public_key():
    """The Ed25519 public key reports are verified with."""
    if settings.REPORT_PUBLIC_KEY:
        return integrity.load_public_key(settings.REPORT_PUBLIC_KEY)
    return signing_key().public_key()


def public_key_pem():
    return integrity.public_key_pem(public_key()).decode("ascii")


def fingerprint():
    return integrity.fingerprint(public_key())
