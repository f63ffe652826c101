"""Built-in job ``source_refresh``: when a dataset's refresh window opens, the worker computes the
default view's queries, so that the first visitor's page is served from the cache."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pilotis.core.access import Principal
from pilotis.core.cache import TTLCache
from pilotis.core.data import DataService
from pilotis.core.jobs import JOB_KINDS, JobContext, due_time
from pilotis.core.loader import load_registry
from pilotis.core.refresh_ahead import KIND, RefreshSchedule
from pilotis.core.schema import RefreshPolicy
from pilotis.core.settings import ROOT, Settings
from pilotis.core.sources import SourceError
from pilotis.core.widgets import WIDGET_TYPES
from pilotis.plugins import register_builtins
from pilotis.ui.portal import Portal

ADMIN = Principal("admin", roles=frozenset({"admin"}))


def _portal(tmp_path: Path) -> tuple[Portal, str, list[str]]:
    """The shipped configuration, one of its datasets given ``refresh: {every: 1h}``, sources counted."""
    register_builtins()
    registry = load_registry(ROOT, ROOT / "config", ROOT / "dashboards", instance_dir=tmp_path)
    dataset = next(  # a file source: readable without the application database (sensor datasets need it)
        w.dataset
        for d in registry.dashboards.values()
        for w in d.widgets
        if getattr(w, "dataset", None) and registry.datasets[w.dataset].config.type in ("csv", "parquet")
    )
    source = registry.datasets[dataset]
    source.config = source.config.model_copy(update={"refresh": RefreshPolicy(every=3600)})
    reads: list[str] = []
    original = source.run

    def counted(query: Any) -> Any:
        reads.append(query.dataset)
        return original(query)

    source.run = counted  # type: ignore[method-assign]
    settings = Settings(instance_dir=tmp_path)
    return Portal(settings=settings, registry=registry, data=DataService(registry.datasets, TTLCache())), dataset, reads


def test_only_scheduled_datasets_get_a_job_due_when_their_window_opens(tmp_path: Path) -> None:
    portal, dataset, _ = _portal(tmp_path)
    plan = JOB_KINDS[KIND].plan(JobContext(None, portal, None))
    assert list(plan) == [dataset]
    schedule = plan[dataset]
    assert isinstance(schedule, RefreshSchedule)
    moment = dt.datetime(2026, 12, 7, 10, 42, 17, tzinfo=dt.UTC)
    assert due_time(schedule, moment) == dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # 11:00 Paris


def test_the_first_visitor_after_the_job_is_served_from_the_cache(tmp_path: Path) -> None:
    portal, dataset, reads = _portal(tmp_path)
    JOB_KINDS[KIND].function(JobContext(None, portal, None, KIND, dataset))
    assert reads, "the job read the source"
    before = len(reads)
    shown = 0
    for dashboard in portal.registry.dashboards.values():
        for widget in dashboard.widgets:
            if getattr(widget, "dataset", None) == dataset:
                context = portal.render_context(dashboard, None, None, principal=ADMIN)
                WIDGET_TYPES[widget.type].data(widget, context)
                shown += 1
    assert shown and len(reads) == before  # every widget of the default view: no source read


def test_a_failing_source_fails_the_run(tmp_path: Path) -> None:
    portal, dataset, _ = _portal(tmp_path)

    def broken(_query: Any) -> Any:
        raise SourceError("serveur indisponible", "unavailable")

    portal.registry.datasets[dataset].run = broken  # type: ignore[method-assign]
    with pytest.raises(SourceError, match="serveur indisponible"):
        JOB_KINDS[KIND].function(JobContext(None, portal, None, KIND, dataset))
