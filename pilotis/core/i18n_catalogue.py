"""Interface texts of the referents directory (``/referents``), the search (``/recherche``) and
the dataset pages of the catalogue (``/donnees/<id>``), French and English. Part of
:data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

CATALOGUE_TEXTS: dict[str, dict[str, str]] = {
    # referents directory (pilotis/web/referents_page.py, pilotis/ui/referent_links.py)
    "referents_title": {"fr": "Annuaire des référents", "en": "Directory of contacts"},
    "referents_intro": {
        "fr": "Qui contacter pour chaque thème, tableau de bord, indicateur et jeu de données : un titulaire "
        "et un suppléant.",
        "en": "Whom to ask about each theme, dashboard, indicator and dataset: a holder and a deputy.",
    },
    "referents_link": {"fr": "Référents", "en": "Contacts"},
    "referent_vacant": {"fr": "référent à désigner", "en": "contact to be appointed"},
    "referents_see": {"fr": "(annuaire)", "en": "(directory)"},
    "holder": {"fr": "Titulaire", "en": "Holder"},
    "deputy": {"fr": "Suppléant", "en": "Deputy"},
    "vacancies_title": {"fr": "Référents à désigner", "en": "Contacts to be appointed"},
    "vacancy_left": {
        "fr": "{name} (compte {account}) : compte désactivé ou supprimé",
        "en": "{name} (account {account}): account disabled or deleted",
    },
    "referents_filter": {"fr": "Chercher dans l'annuaire", "en": "Search the directory"},
    "referents_count": {"fr": "{count} rôle(s) affiché(s).", "en": "{count} role(s) shown."},
    "by_theme": {"fr": "Par thème", "en": "By theme"},
    "by_service": {"fr": "Par service", "en": "By department"},
    "referent_history": {"fr": "Historique du rôle", "en": "History of the role"},
    "since": {"fr": "depuis le", "en": "since"},
    "until": {"fr": "jusqu'au", "en": "until"},
    "kind_theme": {"fr": "Thème", "en": "Theme"},
    "kind_dashboard": {"fr": "Tableau de bord", "en": "Dashboard"},
    "kind_indicator": {"fr": "Indicateur", "en": "Indicator"},
    "kind_dataset": {"fr": "Jeu de données", "en": "Dataset"},
    "kind_field": {"fr": "Champ", "en": "Field"},
    "kind_referent": {"fr": "Référent", "en": "Contact"},
    # search (pilotis/web/search_page.py, pilotis/ui/search_box.py)
    "search_title": {"fr": "Recherche", "en": "Search"},
    "search_results_for": {"fr": "Recherche « {query} »", "en": "Search “{query}”"},
    "search_label": {
        "fr": "Rechercher un tableau de bord, un indicateur, une donnée ou un référent",
        "en": "Search a dashboard, an indicator, data or a contact",
    },
    "search_placeholder": {"fr": "Rechercher…", "en": "Search…"},
    "search_button": {"fr": "Rechercher", "en": "Search"},
    "search_count": {
        "fr": "{count} résultat(s) pour « {query} ».",
        "en": "{count} result(s) for “{query}”.",
    },
    # dataset pages (pilotis/web/dataset_page.py)
    "dataset_fields": {"fr": "Dictionnaire des champs", "en": "Field dictionary"},
    "field_name": {"fr": "Champ", "en": "Field"},
    "field_label": {"fr": "Libellé", "en": "Label"},
    "field_type": {"fr": "Type", "en": "Type"},
    "field_unit": {"fr": "Unité", "en": "Unit"},
    "field_meaning": {"fr": "Signification", "en": "Meaning"},
    "licence": {"fr": "Licence", "en": "Licence"},
    "update_rhythm": {"fr": "Mise à jour", "en": "Updates"},
    "promised": {"fr": "promise : {rhythm}", "en": "promised: {rhythm}"},
    "promised_delay": {"fr": "sous {delay} après la période", "en": "within {delay} after the period"},
    "observed_last": {"fr": "observée : dernière période {period}", "en": "observed: last period {period}"},
    "late": {"fr": "en retard", "en": "late"},
    "declared_coverage": {"fr": "Couverture", "en": "Coverage"},
    "sensitivity": {"fr": "Sensibilité", "en": "Sensitivity"},
    "personal_data": {"fr": "données à caractère personnel", "en": "personal data"},
    "statistical_secrecy": {"fr": "secret statistique", "en": "statistical secrecy"},
    "not_sensitive": {"fr": "aucune donnée personnelle ni secret statistique déclaré", "en": "nothing declared"},
    "used_by_indicators": {"fr": "Indicateurs qui l'utilisent", "en": "Indicators using it"},
    "preview": {"fr": "Aperçu des premières lignes", "en": "Preview of the first rows"},
    "preview_caption": {"fr": "Premières lignes de « {title} »", "en": "First rows of “{title}”"},
    "preview_personal": {
        "fr": "Aperçu réservé aux administrateurs (données à caractère personnel).",
        "en": "Preview for administrators only (personal data).",
    },
    "preview_denied": {
        "fr": "Aperçu non disponible pour votre périmètre.",
        "en": "Preview not available for your scope.",
    },
    "all_datasets": {"fr": "Tous les jeux de données", "en": "All datasets"},
    "details": {"fr": "Fiche", "en": "Details"},
    "frequency_daily": {"fr": "quotidienne", "en": "daily"},
    "frequency_weekly": {"fr": "hebdomadaire", "en": "weekly"},
    "frequency_monthly": {"fr": "mensuelle", "en": "monthly"},
    "frequency_quarterly": {"fr": "trimestrielle", "en": "quarterly"},
    "frequency_yearly": {"fr": "annuelle", "en": "yearly"},
    "frequency_irregular": {"fr": "irrégulière", "en": "irregular"},
    "event_referent_vacant": {
        "fr": "Référent à désigner (compte désactivé ou supprimé)",
        "en": "Contact to be appointed (account disabled or deleted)",
    },
    "event_referents_import": {"fr": "Import de l'annuaire des référents", "en": "Directory of contacts imported"},
}
