"""Anomaly report texts, French and English: the « Signaler une anomalie » link under a widget,
its form (``/signalements/nouveau``) and the inbox (``/signalements``) of
:mod:`pilotis.web.anomaly_pages`. Part of :data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

ANOMALY_TEXTS: dict[str, dict[str, str]] = {
    "anomaly_report": {"fr": "Signaler une anomalie", "en": "Report an anomaly"},
    "anomaly_report_of": {"fr": "dans « {title} »", "en": "in “{title}”"},
    "anomaly_intro": {
        "fr": "Votre signalement part au référent de ces données (à défaut, aux administrateurs du portail), "
        "avec la page, les filtres et les valeurs affichées ci-dessous. Vous suivez sa réponse dans "
        "« Mes signalements ».",
        "en": "Your report goes to the referent of this data (failing that, to the portal's administrators), "
        "with the page, the filters and the values shown below. Follow its answer in “My reports”.",
    },
    "anomaly_widget": {"fr": "Élément signalé", "en": "Reported item"},
    "anomaly_page": {"fr": "Page", "en": "Page"},
    "anomaly_filters": {"fr": "Filtres", "en": "Filters"},
    "anomaly_values": {"fr": "Valeurs affichées (jointes au signalement)", "en": "Values shown (attached)"},
    "anomaly_values_hidden": {
        "fr": "Valeurs jointes non affichées : vous n'avez pas accès à ce tableau de bord.",
        "en": "Attached values not shown: you have no access to this dashboard.",
    },
    "anomaly_no_values": {"fr": "Aucune valeur (élément sans données).", "en": "No values (item without data)."},
    "anomaly_goes_to": {"fr": "Destinataire", "en": "Goes to"},
    "anomaly_to_admins": {"fr": "les administrateurs du portail", "en": "the portal's administrators"},
    "anomaly_message": {
        "fr": "Description de l'anomalie (2 000 caractères au plus)",
        "en": "Description of the anomaly (2,000 characters at most)",
    },
    "anomaly_send": {"fr": "Envoyer le signalement", "en": "Send the report"},
    "anomaly_sent": {
        "fr": "Signalement envoyé : vous suivez ici la réponse du référent.",
        "en": "Report sent: follow the referent's answer here.",
    },
    "anomaly_inbox": {"fr": "Signalements", "en": "Reports"},
    "anomaly_mine": {"fr": "Mes signalements", "en": "My reports"},
    "anomaly_received": {"fr": "Signalements reçus", "en": "Reports received"},
    "anomaly_received_intro": {
        "fr": "Les signalements sur les données dont vous êtes référent (tous, pour un administrateur).",
        "en": "Reports about the data you are the referent of (all of them, for an administrator).",
    },
    "anomaly_none": {"fr": "Aucun signalement.", "en": "No report."},
    "anomaly_col_date": {"fr": "Envoyé le", "en": "Sent on"},
    "anomaly_col_from": {"fr": "Expéditeur", "en": "Sender"},
    "anomaly_col_status": {"fr": "État", "en": "Status"},
    "anomaly_col_reply": {"fr": "Réponse", "en": "Answer"},
    "anomaly_status_received": {"fr": "reçu", "en": "received"},
    "anomaly_status_in_progress": {"fr": "en cours", "en": "in progress"},
    "anomaly_status_resolved": {"fr": "résolu", "en": "resolved"},
    "anomaly_status_rejected": {"fr": "rejeté", "en": "rejected"},
    "anomaly_new_status": {"fr": "Nouvel état", "en": "New status"},
    "anomaly_reply": {
        "fr": "Réponse à l'expéditeur (obligatoire pour rejeter)",
        "en": "Answer to the sender (required to reject)",
    },
    "anomaly_save": {"fr": "Enregistrer", "en": "Save"},
    "anomaly_saved": {"fr": "État enregistré.", "en": "Status saved."},
    "anomaly_closed": {"fr": "Signalement clos.", "en": "Report closed."},
    "anomaly_back": {"fr": "Retour à la page", "en": "Back to the page"},
    "event_anomaly_reported": {"fr": "Anomalie signalée", "en": "Anomaly reported"},
    "event_anomaly_status": {"fr": "Suivi d'un signalement (état changé)", "en": "Report followed up (status changed)"},
    "event_referent_late_notice": {
        "fr": "Jeu de données en retard : référent prévenu",
        "en": "Late dataset: referent notified",
    },
}
