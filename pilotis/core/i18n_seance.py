"""The séance mode's interface texts, French and English (pilotis/web/seance_view.py,
seance_pages.py; ``assets/seance.js`` reads its own from the ``data-text-*`` attributes the server
renders in the page language). Part of :data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

SEANCE_TEXTS: dict[str, dict[str, str]] = {
    "seance": {"fr": "séance", "en": "séance"},
    "seance_previous": {"fr": "Diapositive précédente (flèche gauche)", "en": "Previous slide (left arrow)"},
    "seance_pause": {"fr": "Mettre en pause (espace)", "en": "Pause (space)"},
    "seance_resume": {"fr": "Reprendre la rotation (espace)", "en": "Resume the rotation (space)"},
    "seance_next": {"fr": "Diapositive suivante (flèche droite)", "en": "Next slide (right arrow)"},
    "seance_fullscreen": {"fr": "Plein écran (F)", "en": "Full screen (F)"},
    "seance_freeze": {"fr": "Figer", "en": "Freeze"},
    "seance_freeze_title": {
        "fr": "Figer les chiffres affichés (instantané daté pour le compte rendu)",
        "en": "Freeze the figures shown (a dated snapshot for the minutes)",
    },
    "seance_leave": {"fr": "Quitter la séance (Échap)", "en": "Leave the séance (Esc)"},
    "seance_leave_short": {"fr": "Quitter", "en": "Leave"},
    "seance_controls": {"fr": "Commandes de la séance", "en": "Séance controls"},
    "seance_paused_badge": {"fr": "En pause", "en": "Paused"},
    "seance_connecting": {"fr": "Connexion…", "en": "Connecting…"},
    "seance_chart": {"fr": "Graphique", "en": "Chart"},
    "seance_chart_named": {"fr": "Graphique : {title}", "en": "Chart: {title}"},
    "seance_slide": {"fr": "diapositive", "en": "slide"},
    "seance_slide_label": {"fr": "{number} sur {total} : {title}", "en": "{number} of {total}: {title}"},
    "seance_slide_announce": {
        "fr": "Diapositive {number} sur {total} : {title}",
        "en": "Slide {number} of {total}: {title}",
    },
    "seance_rotation_paused": {"fr": "Rotation en pause", "en": "Rotation paused"},
    "seance_rotation_resumed": {"fr": "Rotation reprise", "en": "Rotation resumed"},
    "seance_hidden_one": {"fr": "{count} élément masqué", "en": "{count} item hidden"},
    "seance_hidden_many": {"fr": "{count} éléments masqués", "en": "{count} items hidden"},
    "seance_see_card": {"fr": " : voir la fiche indicateur", "en": ": see the indicator card"},
    "seance_see_dashboard": {"fr": " : voir le tableau de bord", "en": ": see the dashboard"},
    "seance_late": {"fr": "Données non actualisées", "en": "Data not refreshed"},
    "seance_late_since": {"fr": "Données non actualisées depuis {time}", "en": "Data not refreshed since {time}"},
    "seance_refreshed_at": {"fr": "Actualisé à {time}", "en": "Refreshed at {time}"},
    "seance_stale_since": {"fr": "Données non actualisées depuis le {since}", "en": "Data not refreshed since {since}"},
    "seance_stale_unknown": {
        "fr": "Données non actualisées (source indisponible)",
        "en": "Data not refreshed (source unavailable)",
    },
    "seance_snapshot_of": {"fr": "Instantané du {when}", "en": "Snapshot of {when}"},
    "seance_frozen_by": {"fr": " — figé par {author}", "en": " — frozen by {author}"},
    "seance_frozen_intact": {"fr": " — chiffres figés, non actualisés.", "en": " — frozen figures, not refreshed."},
    "seance_frozen_broken": {
        "fr": " — ATTENTION : le contenu ne correspond plus à son empreinte.",
        "en": " — WARNING: the content no longer matches its fingerprint.",
    },
    "seance_hash_label": {"fr": "Empreinte SHA-256 : ", "en": "SHA-256 fingerprint: "},
    "seance_hash_short": {"fr": " — empreinte {hash}…", "en": " — fingerprint {hash}…"},
    "seance_display_cannot_freeze": {
        "fr": "Un écran d'affichage ne peut pas figer la séance.",
        "en": "A wall screen cannot freeze the séance.",
    },
}
