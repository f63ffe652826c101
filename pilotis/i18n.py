"""Interface texts in French (default) and English. Dashboard content stays as written in YAML."""

from __future__ import annotations

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
        "fr": "Vous n'avez pas accès à ce tableau de bord. Demandez l'accès à la direction qui le publie ou à l'administrateur du portail.",
        "en": "You do not have access to this dashboard. Ask the department that publishes it or the portal administrator.",
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
    "audit_log": {"fr": "Journal d'audit", "en": "Audit log"},
    "account": {"fr": "Compte connecté", "en": "Signed-in account"},
    "per_1000": {"fr": "pour 1 000 habitants", "en": "per 1,000 inhabitants"},
    "per_inhabitant": {"fr": "par habitant", "en": "per inhabitant"},
    "map_of": {"fr": "Carte : {title}, par {level}", "en": "Map: {title}, by {level}"},
    "level_commune": {"fr": "commune", "en": "municipality"},
    "level_epci": {"fr": "EPCI", "en": "EPCI"},
    "footer": {
        "fr": "portail interne de données. Données ouvertes sous Licence Ouverte : producteurs cités sous chaque widget.",
        "en": "internal data portal. Open data under Licence Ouverte: producers cited under each widget.",
    },
    "chart_of": {"fr": "Graphique : {title}", "en": "Chart: {title}"},
}


def t(key: str, lang: str = "fr", **values: object) -> str:
    """The text ``key`` in ``lang`` (French when missing), with ``{placeholders}`` filled."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["fr"]
    return text.format(**values) if values else text
