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
    "per_1000": {"fr": "pour 1 000 habitants", "en": "per 1,000 inhabitants"},
    "per_inhabitant": {"fr": "par habitant", "en": "per inhabitant"},
    "map_of": {"fr": "Carte : {title}, par {level}", "en": "Map: {title}, by {level}"},
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


def t(key: str, lang: str = "fr", **values: object) -> str:
    """The text ``key`` in ``lang`` (French when missing), with ``{placeholders}`` filled."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["fr"]
    return text.format(**values) if values else text
