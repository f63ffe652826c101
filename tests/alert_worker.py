"""A separate evaluator process for tests/test_alerts_cli.py: evaluates the rules of a test
configuration once, but stops inside the transaction (after the claim and the new states, before
the commit), writes ``<marker>`` and waits there to be killed with SIGKILL.

Usage: ``python tests/alert_worker.py CONFIG DATABASE_URL NOW_ISO MARKER``.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pilotis.accounts import alert_notify  # noqa: E402
from pilotis.accounts.db import Database  # noqa: E402
from tests import alerting  # noqa: E402


def main(config: str, url: str, now: str, marker: str) -> None:
    registry = alerting.registry_of(Path(config))

    def stuck(self: Any, items: Any) -> int:
        self.session.flush()  # the claim and the states are written, not committed
        Path(marker).write_text("dans la transaction", encoding="utf-8")
        time.sleep(120)
        return 0

    alert_notify.Outbox.write = stuck  # type: ignore[method-assign]
    with Database(url) as db:
        alerting.Evaluator(db, registry, "tué").run(dt.datetime.fromisoformat(now))


if __name__ == "__main__":
    main(*sys.argv[1:5])
