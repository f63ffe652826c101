"""The interface texts of /alertes, French and English (pilotis/web/alerts.py and its template).
Part of :data:`pilotis.core.i18n.TEXTS`. Rule labels and instance names come from the YAML and
stay French (marked ``lang="fr"`` on an English page)."""

from __future__ import annotations

ALERT_TEXTS: dict[str, dict[str, str]] = {
    "alerts_title": {"fr": "Alertes", "en": "Alerts"},
    "alerts_current": {"fr": "Alertes en cours", "en": "Current alerts"},
    "alerts_none": {"fr": "Aucune alerte en cours.", "en": "No current alert."},
    "alerts_history": {"fr": "Historique des changements d'état", "en": "History of state changes"},
    "alerts_history_none": {"fr": "Aucun changement d'état.", "en": "No state change."},
    "alerts_rule": {"fr": "Règle", "en": "Rule"},
    "alerts_instance": {"fr": "Instance", "en": "Instance"},
    "alerts_state": {"fr": "État", "en": "State"},
    "alerts_level": {"fr": "Niveau", "en": "Level"},
    "alerts_value": {"fr": "Valeur", "en": "Value"},
    "alerts_since": {"fr": "Depuis", "en": "Since"},
    "alerts_when": {"fr": "Quand", "en": "When"},
    "alerts_event": {"fr": "Événement", "en": "Event"},
    "alerts_ack": {"fr": "Acquitter", "en": "Acknowledge"},
    "alerts_ack_title": {"fr": "Acquitter une alerte", "en": "Acknowledge an alert"},
    "alerts_acked": {"fr": "Acquittée par {who}", "en": "Acknowledged by {who}"},
    "alerts_muted": {"fr": "non notifié ({why})", "en": "not notified ({why})"},
    "alerts_silence": {"fr": "Mettre en silence", "en": "Silence"},
    "alerts_silence_until": {"fr": "Jusqu'au (date et heure de Paris)", "en": "Until (Paris date and time)"},
    "alerts_silence_reason": {"fr": "Motif", "en": "Reason"},
    "alerts_silence_instance": {
        "fr": "Instance (vide : toutes les instances de la règle)",
        "en": "Instance (empty: every instance of the rule)",
    },
    "alerts_silences": {"fr": "Silences en cours", "en": "Current silences"},
    "alerts_silence_done": {"fr": "Silence enregistré jusqu'au {until}.", "en": "Silence recorded until {until}."},
    "alerts_deliveries": {"fr": "Envois (administrateurs)", "en": "Deliveries (administrators)"},
    "alerts_channel": {"fr": "Canal", "en": "Channel"},
    "alerts_recipient": {"fr": "Destinataire", "en": "Recipient"},
    "alerts_attempts": {"fr": "Essais", "en": "Attempts"},
    "alerts_error": {"fr": "Dernière erreur", "en": "Last error"},
    "event_alert_ack": {"fr": "Alerte acquittée", "en": "Alert acknowledged"},
    "event_alert_silence": {"fr": "Alerte mise en silence", "en": "Alert silenced"},
    "alerts_not_found": {"fr": "Alerte introuvable", "en": "Alert not found"},
    "alerts_not_found_text": {
        "fr": "Cette alerte n'existe pas ou ne vous est pas visible.",
        "en": "This alert does not exist or is not visible to you.",
    },
    "alerts_rule_not_found": {"fr": "Règle introuvable", "en": "Rule not found"},
    "alerts_rule_not_found_text": {
        "fr": "Cette règle n'existe pas ou ne vous est pas visible.",
        "en": "This rule does not exist or is not visible to you.",
    },
    "alerts_bad_link": {"fr": "Lien invalide", "en": "Invalid link"},
    "alerts_bad_link_text": {
        "fr": "Lien d'acquittement invalide ou expiré.",
        "en": "Invalid or expired acknowledgement link.",
    },
    "alerts_acked_title": {"fr": "Acquittement", "en": "Acknowledgement"},
    "alerts_ack_refused": {"fr": "Acquittement refusé", "en": "Acknowledgement refused"},
    "alerts_ack_done": {
        "fr": "Alerte acquittée : plus de rappel ni d'escalade pour cet épisode.",
        "en": "Alert acknowledged: no more reminders nor escalation for this episode.",
    },
    "alerts_ack_over": {
        "fr": "Cette alerte n'est plus en cours : rien à acquitter.",
        "en": "This alert is no longer current: nothing to acknowledge.",
    },
    "alerts_band": {
        "fr": "Alertes en cours : {count} — niveau le plus élevé : {level}",
        "en": "Current alerts: {count} — highest level: {level}",
    },
    "alerts_band_link": {"fr": "Voir les alertes", "en": "See the alerts"},
    "alerts_band_label": {"fr": "Alertes en cours", "en": "Current alerts"},
    "alerts_ack_link_text": {
        "fr": "Acquitter l'alerte « {rule} » pour « {instance} » ? Les rappels et l'escalade s'arrêtent.",
        "en": "Acknowledge the alert “{rule}” for “{instance}”? Reminders and escalation stop.",
    },
}
"""Keys used by /alertes (``t("alerts_…")``)."""
