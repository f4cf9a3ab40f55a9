"""The shared Redis client of the scale-out implementations."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from glint.infra.breaker import CircuitBreaker, CircuitOpen

T = TypeVar("T")


def connect(url: str) -> aioredis.Redis:
    """A pooled client with short timeouts, so a dead Redis fails fast instead of hanging."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=2.0,
        health_check_interval=30,
        decode_responses=False,
    )


async def guarded(
    breaker: CircuitBreaker,
    operation: Callable[[], Awaitable[T]],
    *,
    unavailable: type[Exception],
) -> T:
    """Run one Redis call through the breaker: refused at once while it is open, and any
    Redis or socket error opens it; both surface as `unavailable`, the adapter's own error."""
    try:
        breaker.before_call()
    except CircuitOpen as exc:
        raise unavailable(str(exc)) from exc
    try:
        result = await operation()
    except (RedisError, OSError) as exc:
        breaker.failed()
        raise unavailable(str(exc)) from exc
    finally:
        honour_cancellation()
    breaker.succeeded()
    return result


def honour_cancellation() -> None:
    """Raise CancelledError if this task was cancelled: redis-py (8.1) swallows a cancellation
    that lands inside one of its calls about one time in five, and the task would run on."""
    current = asyncio.current_task()
    if current is not None and current.cancelling():
        raise asyncio.CancelledError
