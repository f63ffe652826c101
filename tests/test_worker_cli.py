"""``python -m pilotis worker`` as systemd runs it: SIGTERM during a run lets it finish, records
it, and exits 0; ``--once`` runs what is due and returns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pilotis.accounts.db import Database
from pilotis.accounts.jobs import JobStore
from pilotis.core.settings import ROOT
from tests.deploy_stack import free_port


def _env(tmp_path: Path, seconds: str) -> dict[str, str]:
    return {
        **os.environ,
        "PILOTIS_INSTANCE_DIR": str(tmp_path / "instance"),
        "PILOTIS_DATABASE_URL": f"sqlite:///{tmp_path / 'pilotis.db'}",
        "PILOTIS_CACHE_URL": "memory://",
        "PILOTIS_TEST_JOB_LOG": str(tmp_path / "jobs.log"),
        "PILOTIS_TEST_JOB_EVERY": "3600",
        "PILOTIS_TEST_JOB_SECONDS": seconds,
        "PYTHONPATH": str(ROOT),
    }


def test_sigterm_lets_the_current_run_finish(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "pilotis", "worker", "--jobs", "tests.worker_jobs", "--poll", "0.2"]
    command += ["--metrics-port", str(port)]
    errors = tmp_path / "worker.log"
    with open(errors, "wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=_env(tmp_path, "1.5"), stderr=out)
    log = tmp_path / "jobs.log"
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and "start" in log.read_text()):
            assert worker.poll() is None and time.monotonic() < deadline, errors.read_text()[-2000:]
            time.sleep(0.05)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert b"pilotis_job_queue_depth" in response.read()  # the worker's own metrics, on loopback
        worker.send_signal(signal.SIGTERM)  # mid-run
        assert worker.wait(timeout=30) == 0, errors.read_text()[-2000:]
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert [line.split()[0] for line in log.read_text().splitlines()] == ["start", "done"]
    with Database(f"sqlite:///{tmp_path / 'pilotis.db'}") as db:
        [run] = JobStore(db).runs("test_tick")
    assert run.status == "done" and run.finished_at is not None


def test_once_runs_what_is_due_and_returns(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pilotis", "worker", "--jobs", "tests.worker_jobs", "--once"]
    done = subprocess.run(command, cwd=ROOT, env=_env(tmp_path, "0"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "tâche(s) exécutée(s)." in done.stdout
    again = subprocess.run(command, cwd=ROOT, env=_env(tmp_path, "0"), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    with Database(f"sqlite:///{tmp_path / 'pilotis.db'}") as db:
        runs = JobStore(db).runs("test_tick")
    # The built-in jobs (alerts every 15 s…) may fall due again; the test job's slot ran once.
    assert len(runs) == 1 and runs[0].status == "done"
