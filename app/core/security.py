"""Bearer tokens and passwords: random tokens stored as SHA-256, passwords as argon2id."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The prefix tells what a token is without a lookup: an API client's, a
# signed-in person's access token, their refresh token, a reset link's.
API_CLIENT_PREFIX = "cdk_"
ACCESS_PREFIX = "cda_"
REFRESH_PREFIX = "cdr_"
RESET_PREFIX = "cdp_"
INVITATION_PREFIX = "cdi_"

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so the answer takes as long
# either way and does not reveal which addresses have accounts.
_DUMMY_HASH = _hasher.hash("carrierdesk-timing-equaliser")


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash is enough, and lets every
    # request find its caller through a unique index.
    return hashlib.sha256(token.encode()).hexdigest()


def token_hint(token: str) -> str:
    return token[:8]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
