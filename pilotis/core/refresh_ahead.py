"""Built-in job ``source_refresh``: a dataset with a ``refresh`` schedule is read again by the
worker as soon as its new refresh window opens, before the first visitor asks.

Results are cached under a key holding the window's *epoch* (:func:`pilotis.core.freshness.window`):
at 06:30 every key of a ``refresh: {at: ["06:30"]}`` dataset changes, and without this job the
first person to open a dashboard waits for every query of it. The worker runs, for the new epoch,
the queries a dashboard opened with its default filters asks (the years of the dataset, then each
widget reading it, with the dashboard's default territory and period, without row restriction) and stores them in the
shared cache (Redis or the machine's file cache), where the web processes find them.

Visitors with a territorial restriction ask other queries (their row rules are in the key): they
still compute their own, from a source that is already loaded in the worker only. Datasets
without ``refresh`` (``ttl``) have no window to anticipate and get no job.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pilotis.core.access import Principal
from pilotis.core.freshness import window
from pilotis.core.jobs import JobContext, Schedule, register_jobs
from pilotis.core.registry import Dashboard
from pilotis.core.schema import DatasetBase
from pilotis.core.scope import Scope
from pilotis.core.sources import SourceError
from pilotis.core.widgets import WIDGET_TYPES

log = logging.getLogger(__name__)

KIND = "source_refresh"
WARMER = Principal("pilotis-worker")
"""Whose view is computed ahead: no territorial restriction, so no row rule (the département's
default view). Nothing is shown to anyone: results only land in the cache under their query."""


class ContextMaker(Protocol):
    """What the job needs of the portal (:meth:`pilotis.ui.portal.Portal.render_context`)."""

    def render_context(
        self,
        dashboard: Dashboard,
        territory: str | None,
        period: str | None,
        lang: str = "fr",
        *,
        principal: Principal | None,
    ) -> Scope:
        """The scope a page of ``dashboard`` reads through, for these filters."""
        ...


@dataclass(frozen=True)
class RefreshSchedule:
    """A dataset's ``refresh`` policy as a job schedule: due when each refresh window opens."""

    config: DatasetBase

    def previous(self, moment: dt.datetime) -> dt.datetime:
        """Start of the refresh window holding ``moment`` (the epoch of the cache keys)."""
        _, epoch = window(self.config, moment.timestamp())
        return dt.datetime.fromisoformat(epoch)


def plan(ctx: JobContext) -> Mapping[str, Schedule]:
    """One job per dataset that has a ``refresh`` schedule."""
    datasets = ctx.portal.registry.datasets
    return {
        dataset_id: RefreshSchedule(source.config)
        for dataset_id, source in sorted(datasets.items())
        if getattr(source.config, "refresh", None) is not None
    }


def refresh_ahead(ctx: JobContext) -> None:
    """Compute, for the current window, the default view's queries of dataset ``ctx.key``.

    Raises :class:`SourceError` when the source failed (the run is recorded as failed; the
    portal keeps serving the last good data, as it would for a visitor).
    """
    portal = ctx.portal
    dataset = ctx.key
    if dataset not in portal.registry.datasets:
        return  # removed from the configuration since the run was planned
    portal.data.generation(dataset)  # a manual refresh asked elsewhere is seen before the queries
    portal.data.period_bounds(dataset)
    maker: ContextMaker = portal
    count = 0
    for dashboard in portal.registry.dashboards.values():
        widgets = [w for w in dashboard.widgets if getattr(w, "dataset", None) == dataset]
        if not widgets:
            continue
        scope = maker.render_context(dashboard, None, None, principal=WARMER)  # the page's default filters
        for widget in widgets:
            try:
                WIDGET_TYPES[widget.type].data(widget, scope)
                count += 1
            except SourceError:
                break  # the failure is recorded below, once
            except Exception:  # noqa: BLE001 - one widget's bug must not stop the other widgets' warm-up
                log.exception("pré-calcul de %s / %s impossible", dashboard.id, widget.id)
    status = portal.data.last_status(dataset)
    if status.failing:
        raise SourceError(f"source {dataset} en échec : {status.message}", status.kind or "error")
    log.info("jeu de données %s : %d widget(s) pré-calculé(s) pour la nouvelle période", dataset, count)


register_jobs(KIND, plan, refresh_ahead, lease=600.0)
