"""Single sign-on texts, French and English (login page buttons, refusal pages of
:mod:`pilotis.web.sso`, :mod:`pilotis.web.sso_signin`, :mod:`pilotis.web.auth`). Part of
:data:`pilotis.core.i18n.TEXTS`."""

from __future__ import annotations

SSO_TEXTS: dict[str, dict[str, str]] = {
    "sso_sign_in_with": {"fr": "Se connecter avec {label}", "en": "Sign in with {label}"},
    "sso_providers": {"fr": "Connexion par un fournisseur d'identité", "en": "Sign in through an identity provider"},
    "sso_or": {"fr": "ou avec un identifiant et un mot de passe", "en": "or with a username and password"},
    "sso_failed": {"fr": "Connexion impossible", "en": "Sign-in failed"},
    "sso_not_opened": {"fr": "Accès au portail non ouvert", "en": "No access to the portal yet"},
    "sso_start_again": {
        "fr": "La demande de connexion a expiré ou n'est pas valide. Recommencez depuis la page de connexion.",
        "en": "The sign-in request expired or is not valid. Start again from the sign-in page.",
    },
    "sso_refused": {
        "fr": "La connexion n'a pas pu être vérifiée. Recommencez depuis la page de connexion.",
        "en": "The sign-in could not be verified. Start again from the sign-in page.",
    },
    "sso_unavailable": {
        "fr": "Le service d'identification ne répond pas : réessayez dans quelques minutes.",
        "en": "The identity service does not answer: try again in a few minutes.",
    },
    "sso_directory_down": {
        "fr": "L'annuaire de la collectivité ne répond pas : réessayez dans quelques minutes.",
        "en": "The authority's directory does not answer: try again in a few minutes.",
    },
    "sso_back_to_login": {"fr": "Retour à la page de connexion", "en": "Back to the sign-in page"},
    "event_sso_denied": {"fr": "Connexion unique refusée (aucune règle)", "en": "Single sign-on refused (no rule)"},
    "event_sso_failure": {"fr": "Échec de connexion unique", "en": "Single sign-on failure"},
    "event_sso_logout": {
        "fr": "Sessions fermées par le fournisseur d'identité",
        "en": "Sessions ended by the identity provider",
    },
    "event_sso_rights_changed": {
        "fr": "Droits modifiés par l'authentification unique",
        "en": "Rights changed by single sign-on",
    },
}
