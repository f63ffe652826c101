"""A job kind for the worker tests, imported by ``python -m pilotis worker --jobs tests.worker_jobs``.

``test_tick`` is due every ``PILOTIS_TEST_JOB_EVERY`` seconds (default 1); each run appends
``<due time> <pid>`` to ``PILOTIS_TEST_JOB_LOG`` when it starts and ``done <due time> <pid>`` when it
ends, after ``PILOTIS_TEST_JOB_SECONDS`` seconds of work: the tests read which runs started,
which finished, and by whom.
"""

from __future__ import annotations

import os
import time

from pilotis.core.jobs import JobContext, register_job


def _write(line: str) -> None:
    with open(os.environ["PILOTIS_TEST_JOB_LOG"], "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def tick(ctx: JobContext) -> None:
    """Log the start, work a while, log the end."""
    due = ctx.due_at.isoformat()
    _write(f"start {due} {os.getpid()}")
    time.sleep(float(os.environ.get("PILOTIS_TEST_JOB_SECONDS", "0")))
    _write(f"done {due} {os.getpid()}")


register_job(
    "test_tick",
    float(os.environ.get("PILOTIS_TEST_JOB_EVERY", "1")),
    tick,
    lease=float(os.environ.get("PILOTIS_TEST_JOB_LEASE", "3")),
)
