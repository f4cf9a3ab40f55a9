"""Crash recovery in seconds, not a lease's length: kill -9 the process working the jobs with 8
uploads in flight, start it again, and every accepted post is published within a minute.

Embedded, the restarted `glint serve` re-queues what the dead one held as it starts (the lease is
set to five minutes here, so nothing else could make the minute). Scale-out, a replacement
`glint worker` gets RabbitMQ's redelivered messages and takes each job over once the dead
worker's heartbeat lease ends, with no `glint scheduler` running. The scenarios are shared with
`python -m bench.recovery`, which reports the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.recovery import Recovery, run_embedded, run_scaleout
from glint.config import Settings
from tests.conftest import base_settings, delete_queue

pytestmark = pytest.mark.slow
UPLOADS = 8
BOUND_SECONDS = 60.0


def _assert_recovered(outcome: Recovery) -> None:
    assert outcome.running_jobs_at_kill >= 1, outcome  # the kill landed mid-work
    assert outcome.processing_at_kill >= 1, outcome
    assert outcome.statuses == ["published"] * UPLOADS, outcome
    assert outcome.published_seconds < BOUND_SECONDS, outcome


async def test_kill_9_with_uploads_in_flight_recovers_within_a_minute(
    settings: Settings, tmp_path: Path
) -> None:
    if settings.broker_url:
        # A queue and a data folder of its own: the suite's worker must not take these jobs.
        own = settings.model_copy(
            update={"job_queue_name": f"{settings.job_queue_name}-crash", "data_dir": tmp_path}
        )
        try:
            outcome = await run_scaleout(own, uploads=UPLOADS, within=2 * BOUND_SECONDS)
        finally:
            delete_queue(own.job_queue_name)
        assert own.job_lease_seconds == 30  # the default: recovery waits out the dead lease
    else:
        own = base_settings(tmp_path, job_lease_seconds=300)
        outcome = await run_embedded(own, uploads=UPLOADS, within=2 * BOUND_SECONDS)
    _assert_recovered(outcome)
