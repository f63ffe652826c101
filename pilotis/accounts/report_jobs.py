"""Scheduled sending of commission reports (``schedule:`` of ``config/reports/<id>.yaml``).

The worker (``python -m pilotis worker``) runs the job ``reports_send`` with one key per report
that has a schedule, at its cron times (Paris time); each run is claimed once in the database
(:mod:`pilotis.accounts.jobs`), whatever the number of workers. A run renders the report FOR EACH
RECIPIENT with his own rights and row scope — a user restricted to a territory gets the figures
of his territory only, someone who may not see the report (:func:`~pilotis.core.access.can_view_report`)
gets nothing — and queues one e-mail per recipient with the PDF attached in the alert outbox
(:mod:`pilotis.accounts.alert_outbox`: sending, retries and back-off are done there).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pilotis.accounts.alert_notify import recipients
from pilotis.accounts.models import AlertOutbox
from pilotis.core.access import can_view_report
from pilotis.core.cron import parse_cron
from pilotis.core.i18n import t
from pilotis.core.jobs import JobContext, Schedule, register_jobs
from pilotis.core.report_config import ReportSpec
from pilotis.core.report_content import compute, read_filters
from pilotis.core.report_pdf import render_pdf

log = logging.getLogger(__name__)
KIND = "reports_send"


@dataclass
class SendReport:
    """What one run did: e-mails queued, recipients left out (not allowed to see the report)."""

    queued: int = 0
    refused: int = 0


def plan(ctx: JobContext) -> Mapping[str, Schedule]:
    """One key per report with a schedule: its cron."""
    reports: dict[str, ReportSpec] = ctx.portal.registry.reports
    return {key: parse_cron(spec.schedule.cron) for key, spec in reports.items() if spec.schedule is not None}


def send_report(ctx: JobContext) -> None:
    """The run of one report (``ctx.key``): see the module docstring."""
    spec = ctx.portal.registry.reports.get(ctx.key)
    if spec is not None and spec.schedule is not None:
        done = queue_report(ctx.portal, ctx.db, spec, ctx.settings.root / "assets", now=ctx.due_at)
        log.info("rapport %s : %d envois, %d destinataires sans accès", spec.id, done.queued, done.refused)


def queue_report(portal: Any, db: Any, spec: ReportSpec, assets: Any, *, now: dt.datetime) -> SendReport:
    """Render ``spec`` for each of its recipients and queue the e-mails (``now``: aware UTC)."""
    assert spec.schedule is not None
    registry = portal.registry
    result = SendReport()
    moment = now.astimezone(dt.UTC).replace(tzinfo=None)
    with db.session() as session:
        people = recipients(session, spec.schedule.recipients)
    for person in people:
        principal = person.principal
        if principal is None or not can_view_report(principal, spec, registry):
            result.refused += 1
            continue
        filters = read_filters(
            spec, registry, portal.data, portal.territories, spec.schedule.territory or spec.filters.territory, None
        )
        content = compute(spec, registry, portal.data, portal.territories, principal, filters, now=now)
        pdf = render_pdf(content, assets)
        name = f"{spec.id}-{content.territory}-{content.period}.pdf"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        values = {"title": spec.title, "territory": content.territory, "period": content.period}
        with db.session() as session:
            session.add(
                AlertOutbox(
                    created_at=moment,
                    rule=f"rapport:{spec.id}",
                    channel="email",
                    recipient=person.email,
                    subject=t("reports_mail_subject", **values)[:300],
                    body=t("reports_mail_body", **values),
                    html="",
                    status="pending",
                    attempts=0,
                    next_attempt_at=moment,
                    attachment=pdf,
                    attachment_name=safe[:200],
                )
            )
        result.queued += 1
    return result


register_jobs(KIND, plan, send_report, lease=1800.0, grace=6 * 3600.0)
