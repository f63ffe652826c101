"""Cost of statistical secrecy on the RSA page: every widget's data (``WidgetType.data``) for a
small commune and for the département, computed with an empty query cache, for a masked viewer
(`agent.rsa`) and an exempt one (`admin`, exact counts), alternately in the same run.

    python -m bench.bench_secrecy [rounds]

Prints the median seconds per page for each and their ratio (machine load: see `uptime`)."""

from __future__ import annotations

import statistics
import sys
import time

from pilotis.core.access import Principal
from pilotis.core.data import DataService
from pilotis.core.loader import load_registry
from pilotis.core.settings import ROOT, Settings
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.plugins import register_builtins
from pilotis.ui.portal import Portal

VIEWERS = {
    "masqué (agent.rsa)": Principal("agent.rsa", "solidarites", frozenset({"agent"}), None),
    "exact (admin)": Principal("admin", "numerique", frozenset({"admin"}), None),
}
TERRITORIES = ("commune:53012", "departement:53")


def page(portal: Portal, principal: Principal, territory: str) -> float:
    """Seconds to compute every data widget of the RSA page, nothing cached."""
    portal.data.cache.clear()
    dashboard = portal.registry.dashboards["rsa"]
    ctx = portal.render_context(dashboard, territory, "2020", principal=principal)
    start = time.perf_counter()
    for widget in dashboard.widgets:
        WIDGET_TYPES[widget.type].data(widget, ctx)
    return time.perf_counter() - start


def main(rounds: int = 7) -> None:
    register_builtins()
    registry = load_registry(ROOT)
    portal = Portal(settings=Settings.from_env(), registry=registry, data=DataService(registry.datasets))
    for territory in TERRITORIES:
        times: dict[str, list[float]] = {name: [] for name in VIEWERS}
        for _ in range(rounds):
            for name, principal in VIEWERS.items():
                times[name].append(page(portal, principal, territory))
        medians = {name: statistics.median(values) for name, values in times.items()}
        masked, exact = medians.values()
        print(f"{territory}: " + ", ".join(f"{n} {v * 1000:.0f} ms" for n, v in medians.items()), end="")
        print(f" — rapport {masked / exact:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
