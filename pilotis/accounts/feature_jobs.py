"""The background jobs of the portal's own features, registered with the worker
(``python -m pilotis worker`` imports this module):

- ``alerts_evaluate`` (every 15 s): the alert rules whose slot has come
  (:func:`pilotis.accounts.alert_engine.evaluate_due_rules`; each rule's slot is also claimed
  there, so a rule is evaluated once per slot whoever runs it);
- ``alerts_outbox`` (every 10 s): e-mails and webhooks waiting in the outbox, with retries;
- ``sensors_rollup`` (every hour, at minute 5): hourly aggregates of the last 48 hours of readings;
- ``sensors_purge`` (every day at 03:30, Paris time): raw readings older than each source's
  ``raw_days`` (their hours are rolled up first);
- ``late_datasets`` (every hour, at minute 20): the referent of each dataset late against its
  promised update is e-mailed, once per late period (:mod:`pilotis.accounts.late_datasets`);
- ``referents_directory`` (every ``referents_check_minutes`` of ``ldap:`` in ``config/sso.yaml``, when
  set): the referents' accounts looked up in the directory, departures applied
  (:mod:`pilotis.accounts.ldap_referents`).
- ``reports_send`` (one key per scheduled report, at its cron): the commission report rendered
  for each recipient with his own rights, e-mailed with the PDF (:mod:`pilotis.accounts.report_jobs`).

Each run is claimed once in the database (:mod:`pilotis.accounts.jobs`), whatever the number of
workers. ``python -m pilotis alerts evaluate`` stays available for an installation without a worker.
"""

from __future__ import annotations

import datetime as dt

from pilotis.accounts import ldap_referents, report_jobs, sensor_store
from pilotis.accounts.alert_engine import evaluate_due_rules, naive_utc, territory_index
from pilotis.accounts.alert_notify import AlertOptions
from pilotis.accounts.alert_outbox import MailSettings, drain_outbox
from pilotis.accounts.late_datasets import notify_late
from pilotis.core.cron import PARIS
from pilotis.core.jobs import JobContext, register_job, register_jobs


def evaluate_alerts(ctx: JobContext) -> None:
    """Evaluate the rules that are due at this run's time, with the worker's data service."""
    registry = ctx.portal.registry
    if not registry.alerts:
        return
    evaluate_due_rules(
        ctx.db,
        registry,
        naive_utc(dt.datetime.now(dt.UTC)),
        options=AlertOptions.from_env(ctx.settings.secret_key),
        data=ctx.portal.data,
        territories=territory_index(registry, ctx.portal.data),
    )


def drain_alert_outbox(ctx: JobContext) -> None:
    """Send what waits in the outbox (retries with back-off are decided there)."""
    options = AlertOptions.from_env(ctx.settings.secret_key)
    drain_outbox(
        ctx.db, naive_utc(dt.datetime.now(dt.UTC)), mail=MailSettings.from_env(), webhook_secret=options.signing_secret
    )


def rollup_readings(ctx: JobContext) -> None:
    """Fold the last 48 hours of readings into hourly aggregates (late readings included)."""
    if ctx.portal.registry.sensors:
        sensor_store.rollup(ctx.db)


def purge_readings(ctx: JobContext) -> None:
    """Delete the raw readings past their source's retention (aggregates stay)."""
    if ctx.portal.registry.sensors:
        sensor_store.purge(ctx.db, ctx.portal.registry.sensors)


def tell_late_datasets(ctx: JobContext) -> None:
    """E-mail the referents of the datasets that became late (each late period once)."""
    registry = ctx.portal.registry
    today = ctx.due_at.astimezone(PARIS).date()
    notify_late(ctx.db, registry, ctx.portal.data, registry.referents, today)


register_job("alerts_evaluate", 15, evaluate_alerts, lease=120.0, grace=120.0)
register_job("alerts_outbox", 10, drain_alert_outbox, lease=300.0, grace=120.0)
register_job("sensors_rollup", "5 * * * *", rollup_readings, lease=1800.0)
register_job("sensors_purge", "30 3 * * *", purge_readings, lease=3600.0)
register_job("late_datasets", "20 * * * *", tell_late_datasets, lease=1800.0)
register_jobs("referents_directory", ldap_referents.plan, ldap_referents.run_check, lease=600.0)

REPORTS = report_jobs.KIND
"""The scheduled reports' job kind (registered by :mod:`pilotis.accounts.report_jobs` when imported here)."""
