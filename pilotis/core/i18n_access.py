"""Access request texts, French and English (the « Demander l'accès » form, the requester's list,
the deciders' page of :mod:`pilotis.web.access_requests_page`, the audit events). Part of
:data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

ACCESS_TEXTS: dict[str, dict[str, str]] = {
    "access_request": {"fr": "Demander l'accès", "en": "Request access"},
    "access_request_intro": {
        "fr": "Votre demande est envoyée au référent de ce tableau de bord ou, à défaut, aux administrateurs "
        "du portail. Vous suivez sa réponse dans « Mes demandes d'accès ».",
        "en": "Your request goes to this dashboard's referent or, failing that, to the portal's administrators. "
        "Follow its answer in “My access requests”.",
    },
    "access_request_page": {"fr": "Page demandée", "en": "Requested page"},
    "access_request_reason": {
        "fr": "Motif (pourquoi en avez-vous besoin ? 500 caractères au plus)",
        "en": "Reason (why do you need it? 500 characters at most)",
    },
    "access_request_send": {"fr": "Envoyer la demande", "en": "Send the request"},
    "access_request_sent": {
        "fr": "Demande envoyée : vous serez prévenu ici de la réponse.",
        "en": "Request sent: its answer will show here.",
    },
    "access_requests_mine": {"fr": "Mes demandes d'accès", "en": "My access requests"},
    "access_requests_none": {"fr": "Aucune demande.", "en": "No request."},
    "access_requests_to_decide": {"fr": "Demandes d'accès à traiter", "en": "Access requests to decide"},
    "access_requests_to_decide_intro": {
        "fr": "Les demandes des tableaux de bord dont vous êtes référent (ou toutes, pour un administrateur). "
        "Un accès accordé s'ouvre aussitôt et se ferme seul à sa date de fin.",
        "en": "Requests for the dashboards you are the referent of (or all of them, for an administrator). "
        "A granted access opens at once and closes by itself at its end date.",
    },
    "access_col_dashboard": {"fr": "Tableau de bord", "en": "Dashboard"},
    "access_col_requester": {"fr": "Demandeur", "en": "Requester"},
    "access_col_reason": {"fr": "Motif", "en": "Reason"},
    "access_col_date": {"fr": "Demandée le", "en": "Requested on"},
    "access_col_status": {"fr": "État", "en": "Status"},
    "access_col_answer": {"fr": "Réponse", "en": "Answer"},
    "access_status_pending": {"fr": "en attente", "en": "pending"},
    "access_status_granted": {"fr": "accordée jusqu'au {day}", "en": "granted until {day}"},
    "access_status_ended": {"fr": "accordée, terminée le {day}", "en": "granted, ended on {day}"},
    "access_status_refused": {"fr": "refusée", "en": "refused"},
    "access_grant_until": {"fr": "Accorder jusqu'au (inclus)", "en": "Grant until (included)"},
    "access_grant": {"fr": "Accorder", "en": "Grant"},
    "access_refuse_reason": {"fr": "Motif du refus", "en": "Reason for refusal"},
    "access_refuse": {"fr": "Refuser", "en": "Refuse"},
    "access_decided": {"fr": "Décision enregistrée.", "en": "Decision recorded."},
    "access_already": {
        "fr": "Vous avez déjà accès à cette page.",
        "en": "You already have access to this page.",
    },
    "access_current": {"fr": "Accès accordés en cours", "en": "Current granted accesses"},
    "access_end_now": {"fr": "Mettre fin maintenant", "en": "End now"},
    "access_ended_now": {"fr": "Accès fermé.", "en": "Access closed."},
    "access_col_until": {"fr": "Jusqu'au", "en": "Until"},
    "event_access_ended": {"fr": "Accès accordé fermé avant sa fin", "en": "Granted access closed early"},
    "event_access_requested": {"fr": "Demande d'accès envoyée", "en": "Access requested"},
    "event_access_granted": {"fr": "Accès accordé", "en": "Access granted"},
    "event_access_refused": {"fr": "Demande d'accès refusée", "en": "Access request refused"},
}
