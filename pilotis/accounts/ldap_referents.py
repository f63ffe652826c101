"""The referents' accounts checked against the directory (LDAP / Active Directory) on a schedule:
job ``referents_directory`` of ``python -m pilotis worker``, every ``referents_check_minutes`` of
the ``ldap:`` block of ``config/sso.yaml`` (0 or no ``ldap:``: the job does not exist).

Each run looks up every account named by ``config/referents.yaml`` (``account``) in the directory
(:func:`pilotis.accounts.ldap_directory.present_accounts`). A person who left — absent from the
directory, or disabled there — has their portal account disabled if it is a directory account
(``auth_source = ldap``; a local account is left to the administrators), which ends their
sessions and is audited (« Compte désactivé »). The roles they held then read « référent à
désigner » everywhere, and the administrators are e-mailed once per vacancy
(:func:`pilotis.accounts.referent_history.notify_vacancies`).

Safety: a directory that cannot answer, or that finds none of the referents at all (a search
base or filter set wrong), changes nothing — it is logged, never read as « everybody left ».
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from pilotis.accounts import audit
from pilotis.accounts.db import Database
from pilotis.accounts.ldap_directory import DirectoryUnavailable, present_accounts
from pilotis.accounts.models import User
from pilotis.accounts.referent_history import departed, notify_vacancies
from pilotis.accounts.users import set_active
from pilotis.core.jobs import Every, JobContext, Schedule
from pilotis.core.referents import Directory
from pilotis.core.sso_config import LdapDirectory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckReport:
    """What one check found and did."""

    checked: int
    left: list[str]
    """Accounts absent or disabled in the directory."""
    disabled: list[str]
    """Portal accounts disabled by this run."""
    vacancies: list[str]
    """Roles newly found « à désigner » (the administrators were e-mailed)."""


def check_referents(db: Database, config: LdapDirectory, directory: Directory) -> CheckReport:
    """Look the referents' accounts up in the directory and apply the departures (see the module
    docstring); :class:`DirectoryUnavailable` when the directory cannot be trusted this time."""
    accounts = directory.accounts()
    present = present_accounts(config, accounts)
    if accounts and not present:
        raise DirectoryUnavailable("aucun compte de référent trouvé dans l'annuaire : base ou filtre de recherche ?")
    left = sorted(accounts - present)
    with db.session() as session:
        ours = set(
            session.scalars(
                select(User.username).where(User.username.in_(left), User.auth_source == "ldap", User.active.is_(True))
            )
        )
    disabled = []
    for username in sorted(ours):
        if set_active(db, username, False):
            disabled.append(username)
            audit.record(
                "user_disabled",
                username=None,
                ip=None,
                target=username,
                detail="absent ou désactivé dans l'annuaire (vérification des référents)",
                db=db,
            )
    vacancies = notify_vacancies(db, directory, departed(db, accounts))
    return CheckReport(len(accounts), left, disabled, vacancies)


def plan(ctx: JobContext) -> dict[str, Schedule]:
    """One run every ``referents_check_minutes`` when the directory is configured for it."""
    sso = ctx.portal.registry.sso
    ldap = sso.ldap if sso is not None else None
    if ldap is None or not ldap.referents_check_minutes:
        return {}
    return {"": Every(ldap.referents_check_minutes * 60)}


def run_check(ctx: JobContext) -> None:
    """The job: check the referents of the running configuration; an unavailable directory is logged."""
    registry = ctx.portal.registry
    if registry.sso is None or registry.sso.ldap is None:
        return
    try:
        report = check_referents(ctx.db, registry.sso.ldap, registry.referents)
    except DirectoryUnavailable as exc:
        log.warning("référents : annuaire indisponible, rien n'est changé (%s)", exc)
        return
    if report.left:
        log.info("référents : %s absents de l'annuaire, %s comptes désactivés", report.left, report.disabled)
