"""The referents directory: who answers for a theme, a dataset, an indicator or a dashboard.

A referent is a *role*, not a name: each subject (``theme:rsa``, ``dataset:rsa_communes``,
``indicator:rsa.foyers_pour_1000``, ``dashboard:rsa``) has a holder (« titulaire ») and an
optional deputy (« suppléant »), each with a service (a direction of ``config/departments.yaml``),
an e-mail and a phone, declared in ``config/referents.yaml`` (:mod:`pilotis.core.load_referents`)
or imported from a CSV file (:mod:`pilotis.core.referents_csv`). Who held a role when is kept in
the application database (:mod:`pilotis.accounts.referent_history`).

A person may name their portal account (``account``): when that account is disabled or gone, the
directory never shows them — the role reads « référent à désigner » (:meth:`Directory.contact`)
and the administrators are told (audit log, notice on the administration pages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from pilotis.core.schema_base import Strict

KINDS: tuple[str, ...] = ("theme", "dashboard", "indicator", "dataset")
"""Kinds of subjects, in the order the directory lists them."""
SECTIONS = {"themes": "theme", "dashboards": "dashboard", "indicators": "indicator", "datasets": "dataset"}
"""Section of ``config/referents.yaml`` → kind of subject."""
Position = Literal["holder", "deputy"]


class Person(Strict):
    """One person holding a referent role."""

    name: str = Field(min_length=1)
    """Nom de la personne (« Marie Dupont ») ou du service (« Observatoire social »)."""
    service: str | None = None
    """Direction de la personne : identifiant de `config/departments.yaml` (`solidarites`)."""
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    """Adresse électronique."""
    phone: str | None = None
    """Téléphone (texte libre : « 02 43 00 00 00, poste 4521 »)."""
    account: str | None = None
    """Identifiant de son compte sur le portail : compte désactivé ou supprimé → « référent à désigner »."""


class Role(Strict):
    """A referent role: a holder and an optional deputy."""

    holder: Person
    """Titulaire du rôle."""
    deputy: Person | None = None
    """Suppléant (joint quand le titulaire est absent ou à désigner)."""


class ReferentsFile(Strict):
    """`config/referents.yaml`: the roles by kind of subject, keyed by the subject's id."""

    themes: dict[str, Role] = Field(default_factory=dict)
    """Référents par thème (nom d'un fichier `config/indicators/<thème>.yaml`)."""
    dashboards: dict[str, Role] = Field(default_factory=dict)
    """Référents par tableau de bord (identifiant du tableau)."""
    indicators: dict[str, Role] = Field(default_factory=dict)
    """Référents par indicateur (`<thème>.<nom>`)."""
    datasets: dict[str, Role] = Field(default_factory=dict)
    """Référents par jeu de données (identifiant de `config/datasets/`)."""


def subject_key(kind: str, ident: str) -> str:
    """``dataset:rsa_communes``: how a role is named in the history and in page anchors."""
    return f"{kind}:{ident}"


def anchor(kind: str, ident: str) -> str:
    """The id of a role's entry on ``/referents`` (``ref-dataset-rsa_communes``)."""
    return "ref-" + f"{kind}-{ident}".replace(".", "-").replace(":", "-")


@dataclass(frozen=True)
class Contact:
    """What the directory shows for a role once departed accounts are taken out."""

    holder: Person | None
    """The holder, or None: « référent à désigner »."""
    deputy: Person | None


@dataclass(frozen=True)
class Directory:
    """Every declared role, by kind then subject id (``roles["dataset"]["rsa_communes"]``)."""

    roles: dict[str, dict[str, Role]] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: ReferentsFile | None) -> Directory:
        """The directory of a validated file (None: an empty directory)."""
        if spec is None:
            return cls({kind: {} for kind in KINDS})
        return cls({kind: dict(getattr(spec, section)) for section, kind in SECTIONS.items()})

    def role(self, kind: str, ident: str) -> Role | None:
        """The role declared for one subject, if any."""
        return self.roles.get(kind, {}).get(ident)

    def entries(self) -> list[tuple[str, str, Role]]:
        """(kind, subject id, role) for every role, in directory order."""
        return [(kind, ident, role) for kind in KINDS for ident, role in sorted(self.roles.get(kind, {}).items())]

    def accounts(self) -> set[str]:
        """Every account named by a holder or a deputy (checked against the users table)."""
        return {
            person.account
            for _, _, role in self.entries()
            for person in (role.holder, role.deputy)
            if person is not None and person.account
        }

    @staticmethod
    def contact(role: Role, departed: set[str]) -> Contact:
        """The role as shown: a person whose account is in ``departed`` (disabled or deleted) is
        never shown; a holder who left reads « référent à désigner »."""

        def present(person: Person | None) -> Person | None:
            if person is None or (person.account and person.account in departed):
                return None
            return person

        return Contact(holder=present(role.holder), deputy=present(role.deputy))

    def vacancies(self, departed: set[str]) -> list[tuple[str, str, Person]]:
        """(kind, subject id, the holder who left) for every role whose holder is to be named."""
        return [
            (kind, ident, role.holder)
            for kind, ident, role in self.entries()
            if role.holder.account and role.holder.account in departed
        ]
