"""Reviewers who log in to a shared review server (``petitionscan review --listen``).

An organiser adds each volunteer by name; the command prints a password
once and the database keeps only its scrypt hash (``hashlib.scrypt`` from
Python's standard library: memory-hard, salted, no extra dependency). The
password is random, so nobody has to choose one, and printing it once means
a lost one is replaced, never recovered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache

from petitionscan import store
from petitionscan.errors import UsageError

# scrypt cost: 16 MiB and about 50 ms a check, enough against guessing a 16-character random password.
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"
_MAX_NAME = 60


@dataclass(frozen=True)
class Reviewer:
    name: str
    created_at: str


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64): everything needed to check it again."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    encode = base64.b64encode
    return f"{_SCHEME}${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def password_matches(password: str, stored: str) -> bool:
    """Compare in constant time; a malformed stored hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        found = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


def clean_name(name: str) -> str:
    """A reviewer's login name: printable, one line, at most 60 characters."""
    name = " ".join(name.split())
    if not name or len(name) > _MAX_NAME or not name.isprintable():
        raise UsageError(f"a reviewer name is 1 to {_MAX_NAME} printable characters")
    return name


def new_password() -> str:
    """16 random characters from an alphabet without look-alikes (easy to read out or copy)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def add_reviewer(db: store.Target, name: str) -> str:
    """Add a reviewer, or give an existing one a new password; returns the password (shown once)."""
    name = clean_name(name)
    password = new_password()
    hashed = hash_password(password)
    with closing(store.connect(db)) as conn, store.transaction(conn):
        conn.execute(
            "INSERT INTO reviewers (name, password_hash, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash",
            (name, hashed, store.now_iso()),
        )
    return password


def remove_reviewer(db: store.Target, name: str) -> None:
    """Take a reviewer's login away; their decisions stay in the audit trail under their name."""
    with closing(store.connect(db, create=False)) as conn, store.transaction(conn):
        if conn.execute("DELETE FROM reviewers WHERE name = ?", (clean_name(name),)).rowcount != 1:
            raise UsageError(f"no reviewer {name!r}; see 'petitionscan reviewers list'")


def list_reviewers(db: store.Target) -> list[Reviewer]:
    with closing(store.connect(db, create=False)) as conn:
        return [Reviewer(r[0], r[1]) for r in conn.execute("SELECT name, created_at FROM reviewers ORDER BY name")]


def count_reviewers(conn: store.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM reviewers").fetchone()[0])


def check_login(conn: store.Connection, name: str, password: str) -> str | None:
    """The reviewer's name if the password is theirs, else None (an unknown name costs the same time)."""
    try:
        name = clean_name(name)
    except UsageError:
        return None
    found = conn.execute("SELECT password_hash FROM reviewers WHERE name = ?", (name,)).fetchone()
    stored = str(found[0]) if found else _dummy_hash()
    return name if password_matches(password, stored) and found else None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked against for unknown names, so the answer takes as long as for a known one."""
    return hash_password("", salt=b"\0" * 16)
