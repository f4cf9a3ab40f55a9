"""Argon2id password hashing, run in a worker thread so it never blocks the event loop."""

from __future__ import annotations

from functools import lru_cache

import anyio.to_thread
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher


@lru_cache(maxsize=4)
def _hasher(memory_kib: int, time_cost: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=1),))


async def hash_password(password: str, *, memory_kib: int, time_cost: int) -> str:
    """The Argon2id hash of a password."""
    hasher = _hasher(memory_kib, time_cost)
    return await anyio.to_thread.run_sync(hasher.hash, password)


async def verify_password(password: str, hashed: str) -> bool:
    """Whether the password matches; hashes made with other costs verify too."""
    hasher = _hasher(65536, 3)
    return await anyio.to_thread.run_sync(_safe_verify, hasher, password, hashed)


def _safe_verify(hasher: PasswordHash, password: str, hashed: str) -> bool:
    try:
        return hasher.verify(password, hashed)
    except Exception:  # a malformed stored hash is a mismatch, never a crash
        return False


@lru_cache(maxsize=4)
def dummy_hash(memory_kib: int, time_cost: int) -> str:
    """A hash to check when the account does not exist, so a miss costs what a hit costs."""
    return _hasher(memory_kib, time_cost).hash("glint-timing-equaliser")
