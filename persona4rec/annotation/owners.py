"""The owner role: who may create studies, invite annotators, see results and export.

An owner proves it with a secret: the value of PERSONA4REC_ADMIN_TOKEN (read from the environment, never
stored), or the token of an owner account made by `persona4rec admin create NAME` (`<id>-<secret>`, shown
once; only its salted scrypt hash is stored). Both are compared in constant time. With neither configured
the app runs in *open mode* (the local demo): every page is open, and the app says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import func, select

from ..errors import InputError
from .db import Database
from .models import Owner, utcnow
from .study import _clean_name, _in_write
from .tokens import equal_secrets, new_secret, parse_token, secret_matches

ADMIN_TOKEN_ENV = "PERSONA4REC_ADMIN_TOKEN"


@dataclass(frozen=True)
class OwnerAccount:
    name: str
    token: str  # shown once, never stored


def admin_token(environ: dict[str, str] | None = None) -> str | None:
    token = (os.environ if environ is None else environ).get(ADMIN_TOKEN_ENV, "")
    return token or None


def owner_secret_configured(db: Database, environ: dict[str, str] | None = None) -> bool:
    """Whether anything guards the owner role; False means open mode."""
    if admin_token(environ):
        return True
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(Owner)))


def create_owner(db: Database, name: str) -> OwnerAccount:
    """A new owner account; its token is returned once. InputError when the name is taken."""
    name = _clean_name(name, "owner")

    def work(session) -> OwnerAccount:
        if session.scalar(select(Owner).where(Owner.name == name)) is not None:
            raise InputError(f"an owner called {name!r} exists already", field="name")
        made = new_secret()
        owner = Owner(name=name, secret_hash=made.digest, salt=made.salt, created_at=utcnow())
        session.add(owner)
        session.flush()
        return OwnerAccount(name, f"{owner.id}-{made.secret}")

    return _in_write(db, work)


def is_owner(db: Database, secret: str | None, environ: dict[str, str] | None = None) -> bool:
    """Whether `secret` is the admin token or an owner account's token."""
    configured = admin_token(environ)
    if configured and equal_secrets(secret, configured):
        return True
    parsed = parse_token(secret)
    if parsed is None:
        return False
    owner_id, account_secret = parsed
    with db.read() as session:
        owner = session.get(Owner, owner_id)
        stored = (owner.salt, owner.secret_hash) if owner is not None else (None, None)
    return secret_matches(account_secret, *stored)
