"""Statistical secrecy's texts, French and English (masked cells, notes under widgets, the
export header line, the API). Part of :data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

SECRECY_TEXTS: dict[str, dict[str, str]] = {
    "secret_title": {"fr": "secret statistique", "en": "statistical secrecy"},
    "secret_note": {
        "fr": "« {label} » : secret statistique. Les petits effectifs sont masqués, ainsi que d'autres "
        "cellules choisies pour qu'aucun total ne permette de les retrouver.",
        "en": "“{label}”: statistical secrecy. Small counts are masked, and so are other cells chosen "
        "so that no total gives them away.",
    },
    "secret_kpi": {
        "fr": "Valeur masquée (secret statistique : effectif « {label} »).",
        "en": "Value masked (statistical secrecy: count “{label}”).",
    },
    "secret_map": {
        "fr": "Territoires en gris : « {label} », secret statistique.",
        "en": "Areas in grey: “{label}”, statistical secrecy.",
    },
    "export_secret": {"fr": "Secret statistique", "en": "Statistical secrecy"},
    "secret_rule": {
        "fr": "Effectifs inférieurs à {threshold} affichés « {label} » (secret secondaire compris) ; "
        "valeurs exactes pour les rôles : {roles}.",
        "en": "Counts below {threshold} shown “{label}” (secondary suppression included); "
        "exact values for the roles: {roles}.",
    },
}
