"""Cost of the metrics and of the request id on a cached callback (the most frequent request).

One app, one signed-in client, the same cached widget callback (`pilotage--rsa_foyers`) timed in blocks,
alternately **with** everything of issue 16 (request-id middleware, callback histogram, cache
counter) and **without** (middleware unwrapped, after_request hook removed, counters replaced by
no-ops), in the same process, in Prometheus multi-process mode (``PROMETHEUS_MULTIPROC_DIR``, as
under gunicorn: every increment writes to a memory-mapped file). Also: the cost of one counter
increment and one histogram observation alone.

    .venv/bin/python bench/bench_metrics.py [--callbacks 600]      # ~20 s
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MULTIPROC = tempfile.mkdtemp(prefix="pilotis-bench-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = MULTIPROC  # before prometheus_client is imported

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sessions import _callback, _sign_in  # noqa: E402
from common import median_ms  # noqa: E402


class _Null:
    """A metric that does nothing (the « without » side)."""

    def labels(self, *_args: Any) -> _Null:
        return self

    def inc(self, *_args: Any) -> None: ...

    def observe(self, *_args: Any) -> None: ...


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--callbacks", type=int, default=600)
    args = parser.parse_args()

    from app import create_app
    from pilotis.core import metrics
    from pilotis.core.settings import Settings
    from pilotis.web.request_id import RequestIdMiddleware

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(
            instance_dir=Path(tmp), mode="demo", cache_url="memory://", secure_cookies=False, proxies=0
        )
        app = create_app(settings)
        server, portal = app.server, app.server.extensions["pilotis"]
        client = server.test_client()
        _sign_in(client)
        assert _callback(client, portal) == 200  # fills the widget's cache

        hooks = server.after_request_funcs[None]
        timing = next(h for h in hooks if h.__name__ == "time_callback")
        middleware = server.wsgi_app
        assert isinstance(middleware, RequestIdMiddleware)
        real = {name: getattr(metrics, name) for name in ("CACHE_REQUESTS", "CALLBACK_SECONDS")}

        def without() -> None:
            hooks.remove(timing)
            server.wsgi_app = middleware.app  # type: ignore[method-assign]
            for name in real:
                setattr(metrics, name, _Null())

        def with_() -> None:
            hooks.append(timing)
            server.wsgi_app = middleware  # type: ignore[method-assign]
            for name, value in real.items():
                setattr(metrics, name, value)

        for _ in range(50):  # warm-up
            assert _callback(client, portal) == 200
        times: dict[str, list[float]] = {"without": [], "with": []}
        block = 20
        for _ in range(max(1, args.callbacks // block)):
            for name, switch in (("without", without), ("with", with_)):
                switch()
                start = time.perf_counter()
                for _ in range(block):
                    assert _callback(client, portal) == 200
                times[name].append((time.perf_counter() - start) / block)
        with_()

        counter_start = time.perf_counter()
        for _ in range(20000):
            metrics.CACHE_REQUESTS.labels("hit").inc()
        counter_us = (time.perf_counter() - counter_start) / 20000 * 1e6
        observe_start = time.perf_counter()
        histogram = metrics.CALLBACK_SECONDS.labels("pilotage", "rsa_foyers", "2xx")
        for _ in range(20000):
            histogram.observe(0.01)
        observe_us = (time.perf_counter() - observe_start) / 20000 * 1e6

    without_ms, with_ms = median_ms(times["without"]), median_ms(times["with"])
    print("| Cached callback `pilotage--rsa_foyers` (median of blocks of 20) | ms |")
    print("| --- | ---: |")
    print(f"| without metrics nor request id | {without_ms:.3f} |")
    print(f"| with metrics and request id | {with_ms:.3f} |")
    print(f"| **ratio with / without** | **{with_ms / without_ms:.3f}** |")
    print()
    print(f"One counter increment: {counter_us:.2f} µs; one histogram observation: {observe_us:.2f} µs")
    print("(multi-process mode: values in memory-mapped files, as under gunicorn)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
