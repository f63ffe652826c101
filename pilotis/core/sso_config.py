"""Single sign-on settings (`config/sso.yaml`): OpenID Connect providers, an LDAP / Active Directory
directory, and the rules that turn what they say about a person into a direction, roles and a
territory scope.

The file is optional: without it, only local accounts sign in. Rules are read in order and the
first that matches decides; a person no rule matches is refused (deny by default). They are applied
again at each sign-in, so that a change in the directory (a move to another direction) changes what
the person may see at the next sign-in. No Dash, no Flask: :func:`load_sso` is called by the
configuration loader (``pilotis check`` reports its errors as ``file:line:col``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pilotis.core.access import ROLES
from pilotis.core.errors import did_you_mean
from pilotis.core.load_files import ConfigReader

PROVIDER_ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
TERRITORY = re.compile(r"^(departement|epci|commune):[0-9a-zA-Z]{2,15}$")
LDAP_SOURCE = "ldap"
"""The ``source`` of accounts signed in through the directory (OpenID providers use their id)."""
SSO_ROLES = tuple(role for role in ROLES if role != "display")
"""Roles a rule may give (``display`` is the séance display links' own principal)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OidcProvider(_Strict):
    """Un fournisseur OpenID Connect (Keycloak, LemonLDAP::NG, Entra ID, ProConnect…)."""

    id: str = Field(pattern=PROVIDER_ID)
    """Identifiant court (`keycloak`) : adresse de retour `/sso/<id>/callback`."""
    label: str = Field(min_length=1, max_length=80)
    """Nom affiché sur le bouton « Se connecter avec … »."""
    issuer: str = Field(pattern=r"^https?://")
    """Adresse de l'émetteur ; `<issuer>/.well-known/openid-configuration` doit la redonner à l'identique."""
    client_id: str = Field(min_length=1)
    """Identifiant du client déclaré chez le fournisseur."""
    client_secret_env: str = Field(default="", pattern=r"^([A-Z][A-Z0-9_]*)?$")
    """Variable d'environnement du secret (ou `<NOM>_FILE`) ; vide : client public (PKCE seul)."""
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"])
    """Portées demandées (`openid` est toujours ajoutée)."""
    username_claim: str = "preferred_username"
    """Revendication qui donne l'identifiant du compte dans le portail (`email` pour ProConnect)."""
    name_claim: str = "name"
    """Revendication du nom affiché (à défaut : `given_name` + `usual_name`/`family_name`)."""
    groups_claim: str = "groups"
    """Revendication des groupes (liste) ; absente chez ProConnect : les règles lisent alors d'autres revendications."""
    extra_params: dict[str, str] = Field(default_factory=dict)
    """Paramètres ajoutés à la demande d'autorisation (`acr_values: eidas1` pour ProConnect)."""
    end_session: bool = True
    """À la déconnexion, fermer aussi la session chez le fournisseur s'il publie `end_session_endpoint`."""


class LdapDirectory(_Strict):
    """Un annuaire LDAP ou Active Directory (mot de passe vérifié par une connexion `bind`)."""

    url: str = Field(pattern=r"^ldaps?://")
    """Adresse de l'annuaire (`ldaps://ad.exemple.local:636`)."""
    start_tls: bool = False
    """Passer en TLS (StartTLS) sur `ldap://` avant d'envoyer le mot de passe."""
    user_dn: str = ""
    """Modèle du DN de l'utilisateur pour une connexion directe (`uid={username},ou=people,dc=exemple,dc=fr`, ou
    `{username}@exemple.local` pour Active Directory) ; vide : recherche avec `search_base`."""
    search_base: str = ""
    """Base de recherche de l'utilisateur (quand `user_dn` est vide)."""
    search_filter: str = "(uid={username})"
    """Filtre de recherche de l'utilisateur (`(sAMAccountName={username})` pour Active Directory)."""
    bind_dn: str = ""
    """Compte de service pour la recherche (vide : recherche anonyme)."""
    bind_password_env: str = Field(default="", pattern=r"^([A-Z][A-Z0-9_]*)?$")
    """Variable d'environnement du mot de passe du compte de service."""
    group_base: str = ""
    """Base de recherche des groupes (vide : seulement l'attribut `memberOf` de l'utilisateur)."""
    group_filter: str = "(|(member={dn})(uniqueMember={dn}))"
    """Filtre des groupes dont l'utilisateur est membre (`{dn}` : son DN, `{username}` : son identifiant)."""
    name_attribute: str = "cn"
    """Attribut du nom affiché (`displayName` pour Active Directory)."""
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """Délai maximal de connexion et de réponse de l'annuaire."""
    referents_check_minutes: int = Field(default=0, ge=0, le=10080)
    """Toutes les N minutes (tâche `referents_directory` du `worker`), chercher dans l'annuaire les comptes
    des référents (`account` de `config/referents.yaml`) : un compte absent ou désactivé est désactivé sur le
    portail (« référent à désigner », administrateurs prévenus) ; 0 : jamais."""


class Match(_Strict):
    """Conditions d'une règle ; toutes celles écrites doivent être vraies."""

    source: list[str] = Field(default_factory=list)
    """Sources acceptées : identifiants de fournisseurs OpenID ou `ldap` (vide : toutes)."""
    groups: list[str] = Field(default_factory=list)
    """Au moins un de ces groupes (nom, chemin Keycloak `/agents/rsa` ou DN LDAP ; sans tenir compte de la casse)."""
    claims: dict[str, str | list[str]] = Field(default_factory=dict)
    """Revendications exigées : valeur, ou liste de valeurs acceptées (`siret: "22530001300011"`)."""
    email_domains: list[str] = Field(default_factory=list)
    """Domaines de courriel acceptés (`lamayenne.fr`), lus dans `email` (refusé si `email_verified` est faux)."""


class Rule(_Strict):
    """Une règle : si la personne remplit `when`, elle reçoit cette direction, ces rôles, ce territoire."""

    when: Match
    """Conditions (toutes vraies)."""
    department: str | None = None
    """Direction de `config/departments.yaml` (aucune : pas de direction)."""
    roles: list[str] = Field(min_length=1)
    """Rôles donnés (`agent`, `manager`, `president`, `admin`)."""
    territory: str | None = None
    """Restriction territoriale (`epci:200083392`) ; aucune : toutes les lignes."""


class SsoConfig(_Strict):
    """Authentification unique : fournisseurs, annuaire, règles d'attribution des droits."""

    local_accounts: bool = True
    """Comptes locaux (mot de passe du portail, p. ex. un administrateur de secours) ; `false` : refusés."""
    access_contact: str = Field(min_length=3, max_length=300)
    """À qui demander l'accès (affiché aux personnes qu'aucune règle n'admet)."""
    oidc: list[OidcProvider] = Field(default_factory=list)
    """Fournisseurs OpenID Connect (un bouton chacun sur la page de connexion)."""
    ldap: LdapDirectory | None = None
    """Annuaire LDAP / Active Directory (formulaire de connexion habituel)."""
    rules: list[Rule] = Field(default_factory=list)
    """Règles lues dans l'ordre : la première qui s'applique décide ; aucune : accès refusé."""

    def provider(self, provider_id: str) -> OidcProvider | None:
        """The OpenID provider called ``provider_id``, if any."""
        return next((p for p in self.oidc if p.id == provider_id), None)


def load_sso(reader: ConfigReader, departments: Mapping[str, str]) -> SsoConfig | None:
    """`config/sso.yaml` checked (departments, roles, territories, ids), or None when absent or wrong."""
    path = reader.config_dir / "sso.yaml"
    if not path.exists():
        return None
    doc = reader.read(path)
    if doc is None:
        return None
    config: SsoConfig | None = reader.validate(SsoConfig, doc.data, doc)
    if config is None:
        return None
    before = len(reader.issues)
    seen: set[str] = set()
    for index, provider in enumerate(config.oidc):
        if provider.id in seen or provider.id == LDAP_SOURCE:
            message = f"identifiant de fournisseur `{provider.id}` déjà pris"
            reader.issues.append(doc.issue(("oidc", index, "id"), message))
        seen.add(provider.id)
    sources = seen | ({LDAP_SOURCE} if config.ldap else set())
    for index, rule in enumerate(config.rules):
        loc: tuple[Any, ...] = ("rules", index)
        if rule.department and rule.department not in departments:
            hint = did_you_mean(rule.department, departments, "directions")
            reader.issues.append(doc.issue((*loc, "department"), f"direction `{rule.department}` inconnue", hint))
        for position, role in enumerate(rule.roles):
            if role not in SSO_ROLES:
                hint = did_you_mean(role, SSO_ROLES, "rôles")
                reader.issues.append(doc.issue((*loc, "roles", position), f"rôle `{role}` inconnu", hint))
        if rule.territory and not TERRITORY.match(rule.territory):
            reader.issues.append(
                doc.issue((*loc, "territory"), f"territoire `{rule.territory}` invalide", "écrivez `epci:<SIREN>`")
            )
        for position, source in enumerate(rule.when.source):
            if source not in sources:
                hint = did_you_mean(source, sources, "sources") if sources else "déclarez `oidc:` ou `ldap:`"
                reader.issues.append(doc.issue((*loc, "when", "source", position), f"source `{source}` inconnue", hint))
    return config if len(reader.issues) == before else None


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


def _group_names(group: str) -> set[str]:
    """What a rule may write for ``group``: itself, and for a DN (`cn=rsa,ou=groups,…`) its first value."""
    folded = group.strip().casefold()
    names = {folded}
    first = folded.split(",", 1)[0]
    if "=" in first:
        names.add(first.split("=", 1)[1].strip())
    return names


def matches(match: Match, source: str, groups: Iterable[str], claims: Mapping[str, Any]) -> bool:
    """True when every condition written in ``match`` holds for this person."""
    if match.source and source not in match.source:
        return False
    if match.groups:
        held: set[str] = set()
        for group in groups:
            held |= _group_names(group)
        if not any(wanted.strip().casefold() in held for wanted in match.groups):
            return False
    for claim, wanted in match.claims.items():
        accepted = {w.casefold() for w in _listed(wanted)}
        if not accepted & {v.casefold() for v in _listed(claims.get(claim))}:
            return False
    if match.email_domains:
        if claims.get("email_verified") is False:  # an address the provider did not check proves nothing
            return False
        email = str(claims.get("email") or "")
        domain = email.rsplit("@", 1)[1].casefold() if "@" in email else ""
        if domain not in {d.casefold().lstrip("@") for d in match.email_domains}:
            return False
    return True


def grant_for(config: SsoConfig, source: str, groups: Iterable[str], claims: Mapping[str, Any]) -> Rule | None:
    """The first rule this person matches (what they receive), or None: refused."""
    groups = list(groups)
    return next((rule for rule in config.rules if matches(rule.when, source, groups, claims)), None)
