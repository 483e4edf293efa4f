"""Secrets that open a door (an invitation link, an owner account): made here, shown once, stored only as
a salted scrypt hash, checked in constant time.

A token is `<row id>-<secret>`: the id finds the row, the secret is checked against its hash, so a check
costs one scrypt (N=2^14, r=8: 16 MiB and ~50 ms), cheap for a person and slow for guessing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
SECRET_BYTES = 24
TOKEN = re.compile(r"^(\d{1,18})-([A-Za-z0-9_-]{16,128})$")


@dataclass(frozen=True)
class HashedSecret:
    secret: str  # shown once, never stored
    salt: str  # hex
    digest: str  # hex of scrypt(secret, salt)


def new_secret() -> HashedSecret:
    secret = secrets.token_urlsafe(SECRET_BYTES)
    salt = secrets.token_bytes(16)
    return HashedSecret(secret, salt.hex(), scrypt_hex(secret, salt))


def scrypt_hex(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **SCRYPT).hex()


def parse_token(token: str | None) -> tuple[int, str] | None:
    """(row id, secret) of a well-formed token, else None."""
    match = TOKEN.match((token or "").strip())
    return (int(match.group(1)), match.group(2)) if match else None


def secret_matches(secret: str, salt_hex: str | None, digest_hex: str | None) -> bool:
    """Whether `secret` hashes to the stored digest; with no stored row (None) it still pays one hash, so an
    unknown id and a wrong secret take the same time."""
    salt = bytes.fromhex(salt_hex) if salt_hex else secrets.token_bytes(16)
    return hmac.compare_digest(scrypt_hex(secret, salt), digest_hex or "") and digest_hex is not None


def equal_secrets(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a typed secret with a configured one (their lengths may differ)."""
    return bool(given) and hmac.compare_digest(_sha256(given), _sha256(expected))


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()
