"""The widget exports' texts, French and English (the « Télécharger » menu, the header block of
the files, the refusals of the export address). Part of :data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

EXPORT_TEXTS: dict[str, dict[str, str]] = {
    # the menu under a widget (pilotis/ui/downloads.py)
    "export_download": {"fr": "Télécharger", "en": "Download"},
    "export_of": {"fr": "les données de « {title} »", "en": "the data of “{title}”"},
    "export_csv_fr": {"fr": "CSV pour Excel (séparateur ;)", "en": "CSV for Excel, French (; separator)"},
    "export_csv_tools": {
        "fr": "CSV « outils » (virgule, point décimal)",
        "en": "CSV for tools (comma, decimal point)",
    },
    "export_xlsx": {"fr": "Classeur Excel (XLSX)", "en": "Excel workbook (XLSX)"},
    # the header block of a file (pilotis/core/exports.py)
    "export_title": {"fr": "Titre", "en": "Title"},
    "export_territory": {"fr": "Territoire", "en": "Territory"},
    "export_period": {"fr": "Période", "en": "Period"},
    "export_source": {"fr": "Source", "en": "Source"},
    "export_producer": {"fr": "Producteur", "en": "Producer"},
    "export_licence": {"fr": "Licence", "en": "Licence"},
    "export_simulated": {"fr": "Données simulées", "en": "Simulated data"},
    "export_extracted": {"fr": "Extraction", "en": "Extracted"},
    "export_whole_period": {"fr": "toute la période", "en": "whole period"},
    "export_latest": {"fr": "dernière période disponible", "en": "latest period available"},
    "export_all_territories": {
        "fr": "tous les territoires du jeu de données",
        "en": "every territory of the dataset",
    },
    "export_scoped": {
        "fr": "{territory} (limité à votre périmètre : {scope})",
        "en": "{territory} (limited to your scope: {scope})",
    },
    "export_unknown": {"fr": "non précisé", "en": "not stated"},
    "export_yes_simulated": {
        "fr": "oui : chiffres générés, à ne pas citer comme des chiffres réels",
        "en": "yes: generated figures, not to be quoted as real ones",
    },
    "export_no": {"fr": "non", "en": "no"},
    "export_at": {"fr": "{day} à {time} (heure de Paris)", "en": "{day} at {time} (Paris time)"},
    "export_data_sheet": {"fr": "Données", "en": "Data"},
    "export_about_sheet": {"fr": "À propos", "en": "About"},
    # refusals (pilotis/web/exports.py)
    "export_bad_request": {"fr": "Export impossible", "en": "Export refused"},
    "export_bad_territory": {
        "fr": "Paramètre « territoire » : « {value} » n'est pas un territoire connu "
        "(exemples : departement:53, epci:200083392, commune:53130).",
        "en": "Parameter “territoire”: “{value}” is not a known territory "
        "(examples: departement:53, epci:200083392, commune:53130).",
    },
    "export_bad_year": {
        "fr": "Paramètre « annee » : « {value} » n'est pas une année proposée par ce tableau de bord "
        "({years}) ni « all » (toute la période).",
        "en": "Parameter “annee”: “{value}” is not a year offered by this dashboard ({years}) "
        "nor “all” (whole period).",
    },
    "export_bad_variant": {
        "fr": "Paramètre « variante » : « {value} » inconnue ; valeurs possibles : fr (Excel, « ; »), "
        "outils (virgule, point décimal), pour un CSV seulement.",
        "en": "Parameter “variante”: unknown “{value}”; possible values: fr (Excel, “;”), "
        "outils (comma, decimal point), for a CSV only.",
    },
    "export_bad_control": {
        "fr": "Paramètre « {name} » : valeur trop longue.",
        "en": "Parameter “{name}”: value too long.",
    },
    "export_too_many_rows": {
        "fr": "Cet export compte {count} lignes, au-delà de la limite de {limit} lignes du portail : "
        "choisissez un territoire ou une période plus restreints.",
        "en": "This export has {count} rows, beyond the portal's limit of {limit} rows: "
        "choose a smaller territory or period.",
    },
    "export_source_failed": {
        "fr": "La source « {source} » ne répond pas ; réessayez plus tard.",
        "en": "The source “{source}” does not answer; try again later.",
    },
}
"""Texts of the widget exports, by key."""
