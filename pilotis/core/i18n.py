"""Interface texts in French (default) and English. Dashboard content stays as written in YAML."""

from __future__ import annotations

from pilotis.core.i18n_access import ACCESS_TEXTS
from pilotis.core.i18n_alerts import ALERT_TEXTS
from pilotis.core.i18n_anomaly import ANOMALY_TEXTS
from pilotis.core.i18n_catalogue import CATALOGUE_TEXTS
from pilotis.core.i18n_exports import EXPORT_TEXTS
from pilotis.core.i18n_reports import REPORT_TEXTS
from pilotis.core.i18n_seance import SEANCE_TEXTS
from pilotis.core.i18n_secrecy import SECRECY_TEXTS
from pilotis.core.i18n_sso import SSO_TEXTS

LANGUAGES = ("fr", "en")

TEXTS: dict[str, dict[str, str]] = {
    "home": {"fr": "Accueil", "en": "Home"},
    "dashboards": {"fr": "Tableaux de bord", "en": "Dashboards"},
    "home_intro": {
        "fr": "Les tableaux de bord de votre collectivité, à jour et au même endroit.",
        "en": "Your authority's dashboards, up to date and in one place.",
    },
    "open": {"fr": "Ouvrir", "en": "Open"},
    "territory": {"fr": "Territoire", "en": "Territory"},
    "period": {"fr": "Année", "en": "Year"},
    "all_period": {"fr": "Toute la période", "en": "Whole period"},
    "departement": {"fr": "Département", "en": "Département"},
    "epci": {"fr": "Intercommunalités (EPCI)", "en": "Intercommunalities (EPCI)"},
    "communes": {"fr": "Communes", "en": "Municipalities"},
    "see_data": {"fr": "Voir les données", "en": "Show data"},
    "simulated": {"fr": "données simulées", "en": "simulated data"},
    "source": {"fr": "Source", "en": "Source"},
    "loading": {"fr": "Chargement…", "en": "Loading…"},
    "not_found": {"fr": "Page introuvable", "en": "Page not found"},
    "not_found_text": {
        "fr": "Cette adresse ne correspond à aucune page du portail.",
        "en": "This address matches no page of the portal.",
    },
    "back_home": {"fr": "Retour à l'accueil", "en": "Back to home"},
    "denied": {"fr": "Accès refusé", "en": "Access denied"},
    "denied_text": {
        "fr": "Vous n'avez pas accès à ce tableau de bord. "
        "Demandez l'accès à la direction qui le publie ou à l'administrateur du portail.",
        "en": "You do not have access to this dashboard. "
        "Ask the department that publishes it or the portal administrator.",
    },
    "out_of_scope": {
        "fr": "Données non disponibles pour votre périmètre.",
        "en": "Data not available for your area.",
    },
    "no_data": {"fr": "Aucune donnée pour ces filtres.", "en": "No data for these filters."},
    "source_failed": {
        "fr": "Données indisponibles : la source « {source} » ne répond pas ({reason}).",
        "en": "Data unavailable: source “{source}” is not answering ({reason}).",
    },
    "stale_since": {
        "fr": "Données non actualisées depuis le {date} à {time} (source « {source} » : {reason}).",
        "en": "Data not refreshed since {date} at {time} (source “{source}”: {reason}).",
    },
    "updated_at": {"fr": "Mis à jour le {date} à {time}", "en": "Updated on {date} at {time}"},
    "internal_error": {
        "fr": "Ce widget n'a pas pu être affiché. L'erreur a été enregistrée pour l'équipe données.",
        "en": "This widget could not be shown. The error was logged for the data team.",
    },
    "not_at_level": {
        "fr": "Donnée disponible pour le département seulement : chiffre départemental affiché.",
        "en": "Only available for the whole département: département figure shown.",
    },
    "vs": {"fr": "par rapport à", "en": "compared with"},
    "favourable": {"fr": "évolution favorable", "en": "favourable change"},
    "unfavourable": {"fr": "évolution défavorable", "en": "unfavourable change"},
    "stable": {"fr": "stable", "en": "stable"},
    "as_of": {"fr": "Données : {period}", "en": "Data: {period}"},
    "cumul": {"fr": "Cumul {start} – {end}", "en": "Total {start} – {end}"},
    "skip": {"fr": "Aller au contenu", "en": "Skip to content"},
    "main_nav": {"fr": "Navigation principale", "en": "Main navigation"},
    "filters": {"fr": "Filtres", "en": "Filters"},
    "language": {"fr": "English", "en": "Français"},
    "sign_out": {"fr": "Se déconnecter", "en": "Sign out"},
    "sign_out_everywhere": {"fr": "Se déconnecter partout", "en": "Sign out everywhere"},
    "sign_out_everywhere_hint": {
        "fr": "Fermer toutes vos sessions, sur tous les appareils et navigateurs",
        "en": "End all your sessions, on every device and browser",
    },
    "audit_log": {"fr": "Journal d'audit", "en": "Audit log"},
    "account": {"fr": "Compte connecté", "en": "Signed-in account"},
    "per_1000": {"fr": "pour 1\u202f000 habitants", "en": "per 1,000 inhabitants"},
    "per_inhabitant": {"fr": "par habitant", "en": "per inhabitant"},
    "map_of": {"fr": "Carte : {title}, par {level}", "en": "Map: {title}, by {level}"},
    "map_plain": {"fr": "Carte : {title}", "en": "Map: {title}"},
    "level_commune": {"fr": "commune", "en": "municipality"},
    "level_epci": {"fr": "EPCI", "en": "EPCI"},
    "footer": {
        "fr": "portail interne de données. "
        "Données ouvertes sous Licence Ouverte : producteurs cités sous chaque widget.",
        "en": "internal data portal. Open data under Licence Ouverte: producers cited under each widget.",
    },
    "chart_of": {"fr": "Graphique : {title}", "en": "Chart: {title}"},
    # indicators, comparisons, synthesis dashboard (pilotis/comparisons.py, layouts/kpi_card.py)
    "points": {"fr": "pt", "en": "pt"},
    "gap": {"fr": "écart :", "en": "gap:"},
    "band": {"fr": "Communes de {low} à {high} habitants", "en": "Municipalities of {low} to {high} inhabitants"},
    "band_below": {"fr": "Communes de moins de {high} habitants", "en": "Municipalities under {high} inhabitants"},
    "band_above": {"fr": "Communes de {low} habitants ou plus", "en": "Municipalities of {low} inhabitants or more"},
    "units_commune": {"fr": "communes", "en": "municipalities"},
    "units_epci": {"fr": "EPCI", "en": "EPCI"},
    "units_departement": {"fr": "départements", "en": "départements"},
    "average_of": {"fr": "Moyenne des {count} {units} de {where}", "en": "Average of the {count} {units} of {where}"},
    "average_of_band": {"fr": "Moyenne des {count} {where}", "en": "Average of the {count} {where}"},
    "share_of": {"fr": "soit {share} du total de {where}", "en": "{share} of the total of {where}"},
    "rank_text": {
        "fr": "Rang : {rank} sur {count} {units} (1er = valeur la plus élevée)",
        "en": "Rank: {rank} of {count} {units} (1st = highest value)",
    },
    "target": {"fr": "Objectif", "en": "Target"},
    "reached": {"fr": "atteint", "en": "reached"},
    "not_reached": {"fr": "non atteint", "en": "not reached"},
    "progress": {"fr": "Progression vers l'objectif : {pct}", "en": "Progress towards the target: {pct}"},
    "status_ok": {"fr": "Dans les seuils", "en": "Within thresholds"},
    "status_warning": {"fr": "Vigilance", "en": "Warning"},
    "status_alert": {"fr": "Alerte", "en": "Alert"},
    "threshold_reached": {"fr": "seuil de {value} atteint", "en": "threshold of {value} reached"},
    "sparkline_alt": {
        "fr": "Évolution sur {count} périodes : {first} en {start}, {last} en {end} ; maximum {peak} en {peak_date}.",
        "en": "Trend over {count} periods: {first} in {start}, {last} in {end}; highest {peak} in {peak_date}.",
    },
    "positions_withheld": {
        "fr": "Comparaisons territoriales non disponibles pour votre périmètre.",
        "en": "Territorial comparisons not available for your area.",
    },
    "indicator_card": {"fr": "Fiche indicateur", "en": "Indicator card"},
    "indicators": {"fr": "Indicateurs", "en": "Indicators"},
    "see_dashboard": {"fr": "Voir : {title}", "en": "See: {title}"},
    "open_dashboard": {"fr": "Ouvrir : {title}", "en": "Open: {title}"},
    "change_year": {"fr": "Évolution sur un an", "en": "Change over a year"},
    "unavailable": {"fr": "indisponible", "en": "unavailable"},
    "formula": {"fr": "Formule", "en": "Formula"},
    "measure": {"fr": "Mesure", "en": "Measure"},
    "where": {"fr": "lignes où", "en": "rows where"},
    "unit": {"fr": "Unité", "en": "Unit"},
    "better": {"fr": "Sens favorable", "en": "Favourable direction"},
    "producer_department": {"fr": "Direction productrice", "en": "Producing department"},
    "referent": {"fr": "Référent", "en": "Contact"},
    "frequency": {"fr": "Mise à jour", "en": "Updated"},
    "last_period": {"fr": "Dernière période disponible", "en": "Latest period available"},
    "target_by_year": {
        "fr": "une cible par année, lue dans « {dataset} »",
        "en": "one target per year, read from “{dataset}”",
    },
    "thresholds": {"fr": "Seuils", "en": "Thresholds"},
    "shown_on": {"fr": "Tableaux de bord", "en": "Dashboards"},
    "used_by": {"fr": "Utilisé par", "en": "Used by"},
    "all_indicators": {"fr": "Tous les indicateurs", "en": "All indicators"},
    "breadcrumb": {"fr": "Fil d'Ariane", "en": "Breadcrumb"},
    "indicator_id": {"fr": "Identifiant :", "en": "Identifier:"},
    "definition": {"fr": "Définition", "en": "Definition"},
    "how_computed": {"fr": "Calcul, source et contact", "en": "Computation, source and contact"},
    "theme_caption": {"fr": "Indicateurs du thème « {theme} »", "en": "Indicators of theme “{theme}”"},
    "indicator_col": {"fr": "Indicateur", "en": "Indicator"},
    "no_indicator": {"fr": "Aucun indicateur ne vous est accessible.", "en": "No indicator is available to you."},
    "indicators_intro": {
        "fr": "Chaque indicateur a une définition, une source, une direction productrice et un référent.",
        "en": "Each indicator has a definition, a source, a producing department and a contact.",
    },
    # data catalogue (pilotis/data_catalogue.py)
    "data_catalogue": {"fr": "Catalogue des données", "en": "Data catalogue"},
    "catalogues": {"fr": "Catalogues", "en": "Catalogues"},
    "data_catalogue_intro": {
        "fr": "Les jeux de données derrière vos tableaux de bord : leur source, quand ils sont relus, "
        "la période couverte et leur dernière mise à jour.",
        "en": "The datasets behind your dashboards: their source, when they are read again, "
        "the period covered and their last update.",
    },
    "data_catalogue_caption": {"fr": "Jeux de données accessibles", "en": "Datasets available to you"},
    "no_dataset": {"fr": "Aucun jeu de données ne vous est accessible.", "en": "No dataset is available to you."},
    "dataset_col": {"fr": "Jeu de données", "en": "Dataset"},
    "source_kind": {"fr": "Source", "en": "Source"},
    "refresh_col": {"fr": "Actualisation", "en": "Refresh"},
    "coverage": {"fr": "Période couverte", "en": "Period covered"},
    "state_col": {"fr": "Dernière mise à jour", "en": "Last update"},
    "used_on": {"fr": "Utilisé dans", "en": "Used in"},
    "producer": {"fr": "Producteur", "en": "Producer"},
    "refresh_every": {"fr": "relu toutes les {every}", "en": "read again every {every}"},
    "refresh_at": {
        "fr": "relu chaque jour à {times} (heure de Paris)",
        "en": "read again daily at {times} (Paris time)",
    },
    "refresh_cron": {
        "fr": "relu selon le calendrier « {cron} » (cron, heure de Paris)",
        "en": "read again on schedule “{cron}” (cron, Paris time)",
    },
    "refresh_hourly": {"fr": "relu toutes les heures", "en": "read again every hour"},
    "refresh_daily": {"fr": "relu tous les jours à minuit", "en": "read again daily at midnight"},
    "refresh_ttl": {
        "fr": "relu à la demande, au plus {ttl} après la lecture précédente",
        "en": "read on demand, at most {ttl} after the previous read",
    },
    "catalogue_stale": {
        "fr": "Non actualisées depuis le {date} à {time} (source {reason})",
        "en": "Not refreshed since {date} at {time} (source {reason})",
    },
    "catalogue_down": {"fr": "Indisponible (source {reason})", "en": "Unavailable (source {reason})"},
    "catalogue_not_read": {"fr": "Pas encore lu", "en": "Not read yet"},
    # server-rendered pages (pilotis/templates/pilotis/*.html): sign-in, messages, administration
    "login_title": {"fr": "Connexion", "en": "Sign in"},
    "login_intro": {
        "fr": "Connectez-vous avec l'identifiant et le mot de passe fournis par l'administrateur du portail.",
        "en": "Sign in with the username and password given by the portal administrator.",
    },
    "username": {"fr": "Identifiant", "en": "Username"},
    "password": {"fr": "Mot de passe", "en": "Password"},
    "sign_in": {"fr": "Se connecter", "en": "Sign in"},
    "login_help": {
        "fr": "Mot de passe oublié ou compte bloqué : contactez l'administrateur du portail.",
        "en": "Forgotten password or locked account: contact the portal administrator.",
    },
    "demo_hint": {
        "fr": "Démonstration : comptes {names} ; mot de passe {password}.",
        "en": "Demonstration: accounts {names}; password {password}.",
    },
    "login_failed": {"fr": "Identifiant ou mot de passe incorrect.", "en": "Wrong username or password."},
    "logged_out": {"fr": "Vous êtes déconnecté.", "en": "You are signed out."},
    "login_required": {
        "fr": "Connectez-vous pour accéder à cette page.",
        "en": "Sign in to open this page.",
    },
    "sign_out_title": {"fr": "Déconnexion", "en": "Sign out"},
    "sign_out_confirm": {
        "fr": "Voulez-vous vous déconnecter du portail ?",
        "en": "Do you want to sign out of the portal?",
    },
    "page_denied_text": {
        "fr": "Votre compte n'a pas accès à cette page.",
        "en": "Your account has no access to this page.",
    },
    "page_denied_long": {
        "fr": "Vous n'avez pas accès à cette page. Si vous en avez besoin pour votre travail, demandez "
        "l'accès à la direction qui la publie ou à l'administrateur du portail.",
        "en": "You do not have access to this page. If you need it for your work, ask the department "
        "that publishes it or the portal administrator.",
    },
    "request_refused": {"fr": "Requête refusée", "en": "Request refused"},
    "form_expired": {
        "fr": "Votre session a expiré ou ce formulaire n'est plus valide : veuillez réessayer.",
        "en": "Your session has expired or this form is no longer valid: please try again.",
    },
    "audit_intro": {
        "fr": "Connexions, consultations, refus d'accès, administration des comptes et exports. Heures de Paris.",
        "en": "Sign-ins, page views, refusals, account administration and exports. Paris time.",
    },
    "audit_filters": {"fr": "Filtres du journal", "en": "Log filters"},
    "event": {"fr": "Événement", "en": "Event"},
    "all_events": {"fr": "Tous", "en": "All"},
    "user_prefix": {"fr": "Utilisateur (début de l'identifiant)", "en": "User (start of the username)"},
    "date_from": {"fr": "Du", "en": "From"},
    "date_to": {"fr": "Au", "en": "To"},
    "filter": {"fr": "Filtrer", "en": "Filter"},
    "clear": {"fr": "Effacer", "en": "Clear"},
    "export_csv": {"fr": "Exporter en CSV", "en": "Export as CSV"},
    "audit_caption": {
        "fr": "Événements du journal d'audit, du plus récent au plus ancien",
        "en": "Audit log events, most recent first",
    },
    "date": {"fr": "Date", "en": "Date"},
    "user": {"fr": "Utilisateur", "en": "User"},
    "address": {"fr": "Adresse", "en": "Address"},
    "target_col": {"fr": "Cible", "en": "Target"},
    "detail": {"fr": "Détail", "en": "Detail"},
    "no_event": {"fr": "Aucun événement pour ces filtres.", "en": "No event for these filters."},
    "audit_pages": {"fr": "Pages du journal", "en": "Log pages"},
    "sources_title": {"fr": "État des sources", "en": "Source status"},
    "sources_intro": {
        "fr": "Dernière lecture réussie et dernier échec de chaque source de données (heures de Paris). "
        "Quand une source échoue, les widgets montrent les dernières données obtenues avec la mention "
        "« données non actualisées ». « Rafraîchir » relit la source au prochain affichage, sur tous les serveurs.",
        "en": "Last successful read and last failure of each data source (Paris time). When a source fails, "
        "widgets show the last data obtained, marked “data not refreshed”. “Refresh” reads the source again "
        "at the next display, on every server.",
    },
    "refresh_asked": {"fr": "Rafraîchissement demandé pour « {name} ».", "en": "Refresh requested for “{name}”."},
    "sources_caption": {"fr": "État des sources de données", "en": "Status of the data sources"},
    "type": {"fr": "Type", "en": "Type"},
    "state": {"fr": "État", "en": "State"},
    "last_success": {"fr": "Dernier succès", "en": "Last success"},
    "last_failure": {"fr": "Dernier échec", "en": "Last failure"},
    "message": {"fr": "Message", "en": "Message"},
    "action": {"fr": "Action", "en": "Action"},
    "refresh": {"fr": "Rafraîchir", "en": "Refresh"},
    "present": {"fr": "Présenter", "en": "Present"},
    "present_title": {
        "fr": "Projeter ce tableau de bord en séance (plein écran)",
        "en": "Project this dashboard full screen",
    },
    "period_col": {"fr": "Période", "en": "Period"},
    "noscript": {
        "fr": "Pilotis a besoin de JavaScript pour afficher les tableaux de bord.",
        "en": "Pilotis needs JavaScript to show the dashboards.",
    },
    # audit events (pilotis/audit.py EVENTS: same French labels) and source states (admin_sources.py)
    "event_login_success": {"fr": "Connexion réussie", "en": "Successful sign-in"},
    "event_login_failure": {"fr": "Échec de connexion", "en": "Failed sign-in"},
    "event_login_locked": {"fr": "Connexion bloquée (trop de tentatives)", "en": "Sign-in blocked (too many attempts)"},
    "event_logout": {"fr": "Déconnexion", "en": "Sign-out"},
    "event_sessions_revoked": {
        "fr": "Sessions fermées (déconnexion partout)",
        "en": "Sessions ended (signed out everywhere)",
    },
    "event_page_view": {"fr": "Consultation d'une page", "en": "Page view"},
    "event_access_denied": {"fr": "Accès refusé", "en": "Access denied"},
    "event_user_created": {"fr": "Compte créé", "en": "Account created"},
    "event_user_updated": {"fr": "Compte modifié", "en": "Account changed"},
    "event_user_password": {"fr": "Mot de passe changé", "en": "Password changed"},
    "event_user_disabled": {"fr": "Compte désactivé", "en": "Account deactivated"},
    "event_user_enabled": {"fr": "Compte réactivé", "en": "Account reactivated"},
    "event_audit_export": {"fr": "Export du journal d'audit", "en": "Audit log export"},
    "event_export": {"fr": "Export de données", "en": "Data export"},
    "event_source_refresh": {"fr": "Rafraîchissement d'une source", "en": "Source refresh"},
    "event_seance_snapshot": {"fr": "Séance figée (instantané)", "en": "Frozen séance (snapshot)"},
    "event_display_link_created": {"fr": "Lien d'affichage créé", "en": "Display link created"},
    "event_sensor_token_created": {"fr": "Jeton d'envoi de capteurs créé", "en": "Sensor upload token created"},
    "event_sensor_token_revoked": {"fr": "Jeton d'envoi de capteurs révoqué", "en": "Sensor upload token revoked"},
    "event_display_link_revoked": {"fr": "Lien d'affichage révoqué", "en": "Display link revoked"},
    "event_api_call": {"fr": "Appel de l'API", "en": "API call"},
    "event_api_token_created": {"fr": "Jeton d'API créé", "en": "API token created"},
    "event_api_token_revoked": {"fr": "Jeton d'API révoqué", "en": "API token revoked"},
    "event_display_link_refused": {"fr": "Lien d'affichage refusé", "en": "Display link refused"},
    "source_failing": {"fr": "en échec", "en": "failing"},
    "source_up_to_date": {"fr": "à jour", "en": "up to date"},
    "source_not_read": {"fr": "non interrogée", "en": "not read yet"},
    "kind_unreachable": {"fr": "injoignable", "en": "unreachable"},
    "kind_timeout": {"fr": "délai dépassé", "en": "timed out"},
    "kind_auth": {"fr": "identifiants refusés", "en": "credentials refused"},
    "kind_malformed": {"fr": "réponse illisible", "en": "unreadable answer"},
    "kind_columns": {"fr": "colonnes modifiées", "en": "columns changed"},
    "kind_missing": {"fr": "fichier introuvable", "en": "file not found"},
    "kind_refused": {"fr": "requête refusée", "en": "request refused"},
    "kind_error": {"fr": "erreur", "en": "error"},
    # accessible data tables (layouts/html_table.py, assets/pilotis-table.js)
    "sort_by": {"fr": "Trier par {column}", "en": "Sort by {column}"},
    "sorted_ascending": {"fr": "Trié par {column}, ordre croissant.", "en": "Sorted by {column}, ascending."},
    "sorted_descending": {"fr": "Trié par {column}, ordre décroissant.", "en": "Sorted by {column}, descending."},
    "page_of": {"fr": "Page {page} sur {pages}", "en": "Page {page} of {pages}"},
    "table_pages": {"fr": "Pages du tableau :", "en": "Table pages:"},
    "first_page": {"fr": "Première page", "en": "First page"},
    "previous_page": {"fr": "Page précédente", "en": "Previous page"},
    "next_page": {"fr": "Page suivante", "en": "Next page"},
    "last_page": {"fr": "Dernière page", "en": "Last page"},
    "rows_count": {"fr": "{count} lignes", "en": "{count} rows"},
    "page_loaded": {"fr": "Page affichée : {title}", "en": "Page shown: {title}"},
    "series_table": {"fr": "Séries : {title}", "en": "Series: {title}"},
    **SEANCE_TEXTS,  # séance mode: pilotis/core/i18n_seance.py
    **EXPORT_TEXTS,  # widget exports: pilotis/core/i18n_exports.py
    **SSO_TEXTS,  # single sign-on: pilotis/core/i18n_sso.py
    **ACCESS_TEXTS,  # access requests: pilotis/core/i18n_access.py
    **CATALOGUE_TEXTS,  # referents, search, dataset pages: pilotis/core/i18n_catalogue.py
    **ALERT_TEXTS,  # /alertes: pilotis/core/i18n_alerts.py
    **ANOMALY_TEXTS,  # « Signaler une anomalie », /signalements: pilotis/core/i18n_anomaly.py
    **REPORT_TEXTS,  # commission reports and dashboard PDFs: pilotis/core/i18n_reports.py
    **SECRECY_TEXTS,  # statistical secrecy: pilotis/core/i18n_secrecy.py
}


def add_texts(texts: dict[str, dict[str, str]], owner: str) -> None:
    """Add the texts an extension declares (a widget type's ``texts``); a key already used for
    another text is a programming error, raised at import time."""
    for key, entry in texts.items():
        if "fr" not in entry:
            raise ValueError(f"{owner}: le texte `{key}` n'a pas de version française")
        if TEXTS.get(key, entry) != entry:
            raise ValueError(f"{owner}: le texte `{key}` existe déjà avec une autre valeur")
        TEXTS[key] = dict(entry)


_KEY_OF_FRENCH = {entry["fr"]: key for key, entry in TEXTS.items() if "{" not in entry["fr"]}
"""The key of each fixed French text (read-only): :func:`translate` of a text written in French."""


def translate(text: str | None, lang: str) -> str:
    """A fixed French interface text (as an older module writes it, e.g. a message constant) in
    ``lang``: its English entry when ``TEXTS`` has it, else the text unchanged."""
    if not text:
        return ""
    key = _KEY_OF_FRENCH.get(text)
    return t(key, lang) if key and lang != "fr" else text


def t(key: str, lang: str = "fr", **values: object) -> str:
    """The text ``key`` in ``lang`` (French when missing), with ``{placeholders}`` filled."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["fr"]
    return text.format(**values) if values else text
