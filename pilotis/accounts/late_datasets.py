"""Late datasets tell their referent (job ``late_datasets`` of ``python -m pilotis worker``).

The catalogue flags a dataset « en retard » when the update its producer promised (``update:``)
is overdue (:func:`pilotis.core.catalogue.is_late`). Each day the worker looks at every dataset
with a promise; for a late one it e-mails the dataset's referent (holder and deputy of
``datasets: <id>`` in ``config/referents.yaml`` whose accounts are present; a dataset without a
referent, or whose role is vacant, e-mails nobody: the administrators are told of vacancies
already, and the catalogue shows the badge) — **once per late period**: the pair (dataset, last period received) is
inserted in ``late_dataset_notices`` with ``ON CONFLICT DO NOTHING``, and only the transaction
that inserted it queues the e-mail. New data arrives, then is late again: a new period, a new
e-mail. Each notice is written to the audit log (``referent_late_notice``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.dialects import postgresql, sqlite

from pilotis.accounts import audit
from pilotis.accounts.db import Database, utcnow
from pilotis.accounts.models import LateDatasetNotice
from pilotis.accounts.notices import base_url, mail_rows
from pilotis.accounts.referent_history import departed
from pilotis.core.catalogue import expected_by, is_late
from pilotis.core.data import DataService, as_date
from pilotis.core.referents import Directory
from pilotis.core.registry import Registry
from pilotis.core.sources import SourceError
from pilotis.core.widget_referent import ADMIN, answerer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Late:
    """A dataset whose promised update is overdue."""

    dataset: str
    title: str
    last_period: date
    due: date | None


def late_datasets(registry: Registry, data: DataService, today: date) -> list[Late]:
    """Every dataset late at ``today`` (a failing source is skipped: its state is on /admin/sources)."""
    found: list[Late] = []
    for ident, source in sorted(registry.datasets.items()):
        config = source.config
        if config.update is None or config.period is None:
            continue
        try:
            bounds = data.period_bounds(ident)
        except SourceError:
            log.warning("jeu de données %s : source en échec, retard non évalué", ident)
            continue
        last = as_date(bounds[1]) if bounds else None
        if last is not None and is_late(last, config.period.grain, config.update, today):
            due = expected_by(last, config.period.grain, config.update)
            found.append(Late(ident, config.title or ident, last, due))
    return found


def _mail(late: Late) -> tuple[str, str]:
    due = late.due.strftime("%d/%m/%Y") if late.due else "—"
    body = (
        f"Le jeu de données « {late.title} » ({late.dataset}) est en retard : la dernière période reçue "
        f"est {late.last_period.isoformat()}, la suivante était attendue au plus tard le {due} "
        "(rythme promis par le producteur, clé `update`).\n\n"
        "Vous êtes son référent : vérifiez auprès du producteur ou de la source.\n\n"
        f"Fiche du jeu de données : {base_url()}/donnees/{late.dataset}\n"
    )
    return f"Jeu de données en retard : {late.title}", body


def notify_late(
    db: Database, registry: Registry, data: DataService, directory: Directory, today: date, now: datetime | None = None
) -> list[str]:
    """E-mail the referent of each late dataset not told yet for its last period; returns the ids told."""
    now = now or utcnow()
    gone = departed(db, directory.accounts())
    dialect = postgresql if db.dialect == "postgresql" else sqlite
    told: list[tuple[str, str]] = []
    for late in late_datasets(registry, data, today):
        who = answerer(directory, gone, [("dataset", late.dataset)])
        addresses = who.addresses
        if who.subject == ADMIN or not addresses:
            continue  # nobody to tell; not claimed, so a referent named later is told
        with db.session() as session:
            claim = (
                dialect.insert(LateDatasetNotice)
                .values(
                    dataset=late.dataset,
                    last_period=late.last_period.isoformat(),
                    notified_at=now,
                    recipients=", ".join(addresses)[:2000],
                )
                .on_conflict_do_nothing(index_elements=["dataset", "last_period"])
                .returning(LateDatasetNotice.id)
            )
            if session.execute(claim).scalar() is None:
                continue  # told already (this period), by this worker or another
            session.add_all(mail_rows(f"retard:{late.dataset}", addresses, *_mail(late), now))
        told.append((late.dataset, who.subject))
    for dataset, subject in told:
        audit.record(
            "referent_late_notice", username=None, ip=None, target=f"jeu de données {dataset}", detail=subject, db=db
        )
    return [dataset for dataset, _ in told]
