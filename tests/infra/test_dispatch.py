"""Announcing committed jobs on RabbitMQ when the broker does not answer at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from glint.infra import queue_workers
from glint.infra.ids import IdGenerator
from tests.conftest import base_settings


class FlakyActor:
    """Stands in for the Dramatiq actor: refuses the first `failures` sends, then records."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[int] = []

    def send(self, job_id: int) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("AMQP handshake timed out")
        self.sent.append(job_id)


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_workers, "DISPATCH_RETRY_DELAYS", (0.05, 0.05, 0.05))


async def _queue(tmp_path: Path, actor: FlakyActor) -> queue_workers.RabbitJobQueue:
    settings = base_settings(tmp_path, broker_url="amqp://guest:guest@127.0.0.1:1/")
    jobs = queue_workers.RabbitJobQueue(ids=IdGenerator(1), settings=settings)
    jobs._actor = actor  # the edge of the world: no broker is reached
    return jobs


async def test_a_failed_announcement_is_sent_again_by_this_process(
    tmp_path: Path, fast_retries: None
) -> None:
    actor = FlakyActor(failures=2)
    jobs = await _queue(tmp_path, actor)
    await jobs.dispatch([11, 12])  # the caller is never failed by the broker
    assert actor.sent == []
    for _ in range(100):
        if actor.sent:
            break
        await asyncio.sleep(0.02)
    assert actor.sent == [11, 12]


async def test_retries_give_up_quietly_and_stop_cancels_them(
    tmp_path: Path, fast_retries: None
) -> None:
    never = FlakyActor(failures=1000)
    jobs = await _queue(tmp_path, never)
    await jobs.dispatch([21])
    await asyncio.sleep(0.3)  # every retry spent: the row waits for the scheduler's sweep
    assert never.sent == [] and never.failures == 1000 - 4
    slow = FlakyActor(failures=1)
    jobs._actor = slow
    await jobs.dispatch([22])
    await jobs.stop()
    await asyncio.sleep(0.2)
    assert slow.sent == []  # a stopping process leaves re-sending to the sweep
