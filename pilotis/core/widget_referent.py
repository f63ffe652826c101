"""Who answers for a widget: the role of the referents directory that an anomaly report on it
(« Signaler une anomalie ») goes to.

The most specific role first, the same order as the cards and catalogue entries: the widget's
dataset (``datasets:``), then each indicator it shows (``indicators:``, then the indicator's
theme, ``themes:``), then the dashboard (``dashboards:``). A role whose holder and deputy have
both left (their accounts disabled or gone: « référent à désigner ») answers nothing: the next
one is asked; none at all goes to the administrators (:data:`ADMIN`).
"""

from __future__ import annotations

from dataclasses import dataclass

from pilotis.core.referents import Contact, Directory, Person, subject_key
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.schema import DataWidgetBase, WidgetBase
from pilotis.core.widgets import WIDGET_TYPES

ADMIN = "admin"
"""The subject of a report no role answers for: the administrators handle it."""


@dataclass(frozen=True)
class Answerer:
    """The role a report goes to and the people present in it."""

    subject: str
    """``dataset:rsa_communes``, or :data:`ADMIN`."""
    people: tuple[Person, ...] = ()

    @property
    def accounts(self) -> set[str]:
        """Portal accounts of the people present (they see the report in their inbox)."""
        return {p.account for p in self.people if p.account}

    @property
    def addresses(self) -> list[str]:
        """E-mail addresses of the people present (each once)."""
        return sorted({p.email for p in self.people if p.email})


def candidate_roles(registry: Registry, dashboard: Dashboard, widget: WidgetBase) -> list[tuple[str, str]]:
    """(kind, id) of the roles that may answer for ``widget``, the most specific first."""
    found: list[tuple[str, str]] = []
    if isinstance(widget, DataWidgetBase):
        found.append(("dataset", widget.dataset))
    kind = WIDGET_TYPES.get(widget.type)
    for indicator_id in kind.indicators_used(widget) if kind is not None else ():
        indicator = registry.indicators.get(indicator_id)
        if indicator is None:
            continue
        found.append(("indicator", indicator.id))
        if indicator.spec.dataset:
            found.append(("dataset", indicator.spec.dataset))
        found.append(("theme", indicator.theme))
    found.append(("dashboard", dashboard.id))
    return list(dict.fromkeys(found))


def _present(contact: Contact) -> tuple[Person, ...]:
    return tuple(p for p in (contact.holder, contact.deputy) if p is not None)


def answerer(directory: Directory, departed: set[str], roles: list[tuple[str, str]]) -> Answerer:
    """The first of ``roles`` with someone present, else the administrators."""
    for kind, ident in roles:
        role = directory.role(kind, ident)
        if role is None:
            continue
        people = _present(directory.contact(role, departed))
        if people:
            return Answerer(subject_key(kind, ident), people)
    return Answerer(ADMIN)


def handlers(directory: Directory, departed: set[str], subject: str) -> set[str]:
    """Accounts that handle the reports sent to ``subject`` now (besides the administrators):
    the present holder and deputy of that role (a successor named since sees its reports)."""
    kind, _, ident = subject.partition(":")
    role = directory.role(kind, ident) if ident else None
    if role is None:
        return set()
    return {p.account for p in _present(directory.contact(role, departed)) if p.account}
