"""The portal's own addresses: one table, read by the app (which requests bypass the Dash page
router) and by the loader (``pilotis check`` refuses a dashboard whose address collides with one).

A dashboard is served at ``/<id>`` (or its ``path:``); without this table a dashboard
``id: donnees`` passed the check and was silently shadowed by the data catalogue. Addresses are
reserved before their feature lands, so that adding it never takes the address of a dashboard a
collectivité already published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Route:
    """A reserved address: ``path`` itself and everything below ``path/``."""

    path: str
    purpose: str
    server: Literal["", "page", "folder", "tree"] = ""
    """How Flask answers it, never the Dash page router: ``"page"`` (this exact address),
    ``"folder"`` (the addresses below it) or ``"tree"`` (both); empty: a Dash page, or reserved
    for later."""

    def covers(self, url: str) -> bool:
        """``url`` is this address or below it (``/admin`` covers ``/admin/audit``)."""
        return url == self.path or url.startswith(self.path + "/")

    def serves(self, url: str) -> bool:
        """Flask answers ``url`` here (other addresses under a page go to the 404 check)."""
        if self.server in ("page", "tree") and url == self.path:
            return True
        return self.server in ("folder", "tree") and url.startswith(self.path + "/")


ROUTES: tuple[Route, ...] = (
    Route("/donnees", "catalogue des données"),
    Route("/donnees.ttl", "catalogue en DCAT-AP (jeux de données publiables)", server="page"),
    Route("/indicateurs", "catalogue et fiches des indicateurs"),
    Route("/seance", "mode séance"),
    Route("/admin", "administration (journal d'audit, état des sources)", server="folder"),
    Route("/login", "connexion", server="page"),
    Route("/logout", "déconnexion", server="page"),
    Route("/sso", "authentification unique (OpenID Connect)", server="folder"),
    Route("/sso/backchannel-logout", "déconnexion demandée par le fournisseur (POST, hors CSRF)", server="page"),
    Route("/lang", "choix de la langue", server="folder"),
    Route("/assets", "fichiers statiques", server="folder"),
    Route("/favicon.ico", "icône du site", server="page"),
    Route("/exports", "exports des widgets (CSV, XLSX) et des tableaux de bord (PDF)", server="folder"),
    Route("/api", "API JSON (/api/v1 : jetons d'API, document OpenAPI, documentation)", server="folder"),
    Route("/compte", "compte : jetons d'API personnels, demandes d'accès", server="folder"),
    Route("/healthz", "supervision : le processus répond", server="page"),
    Route("/readyz", "supervision : base, cache et sources prêts", server="page"),
    Route("/metrics", "métriques Prometheus (jeton)", server="page"),
    Route("/alertes", "alertes : en cours, historique, acquittement (page et lien), silences", server="tree"),
    Route("/capteurs", "envoi des relevés des capteurs (POST /capteurs/<source>/releves)", server="folder"),
    Route("/referents", "annuaire des référents", server="page"),
    Route("/recherche", "recherche (tableaux de bord, indicateurs, données, référents)", server="page"),
    Route("/signalements", "signalements d'anomalies : formulaire, boîte de réception, suivi", server="tree"),
    Route("/rapports", "rapports de commission (liste, formulaire, PDF)", server="tree"),
)
"""Every address the portal keeps for itself, besides ``/`` and the ``/_…`` addresses of Dash."""


def reserved_route(url: str) -> Route | None:
    """The route ``url`` collides with, if any (``/`` and ``/_…`` are checked by the caller)."""
    return next((route for route in ROUTES if route.covers(url)), None)


def served_by_server(path: str) -> bool:
    """``path`` is answered by Flask itself (``/_dash-…``, ``/assets/…``, ``/login``…), not a page."""
    return path.startswith("/_") or any(route.serves(path) for route in ROUTES)


FOOTER_LINKS: tuple[tuple[str, str], ...] = (
    ("indicators", "/indicateurs"),
    ("data_catalogue", "/donnees"),
    ("referents_link", "/referents"),
    ("reports_title", "/rapports"),
)
"""The portal's own pages linked in every page's footer: (text key of the i18n catalogue, address)."""
