"""Server-wide security settings: secret key, cookie flags, session expiry, proxies, headers,
and the production-mode checks that refuse to start with demo secrets or demo accounts."""

from __future__ import annotations

import logging
from datetime import timedelta

import flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pilotis.accounts.db import Database
from pilotis.accounts.users import active_demo_users
from pilotis.core.errors import StartupError
from pilotis.core.settings import DEMO_SECRET_KEY, MODES, Settings

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32


def check_settings(settings: Settings) -> None:
    """Refuse unknown modes, and in production the demo secret key or a short one."""
    if settings.mode not in MODES:
        raise StartupError(f"PILOTIS_MODE=`{settings.mode}` inconnu : écrivez `demo` ou `production`.")
    if not settings.session_minutes * 60 >= 2:
        raise StartupError("PILOTIS_SESSION_MINUTES doit être une durée en minutes (au moins 0.05).")
    if not settings.session_max_hours * 3600 >= settings.session_minutes * 60:
        raise StartupError(
            "PILOTIS_SESSION_MAX_HOURS (durée maximale d'une session, en heures) doit être au moins "
            "égale à PILOTIS_SESSION_MINUTES (expiration après inactivité)."
        )
    if (
        min(
            settings.login_max_failures_account,
            settings.login_max_failures_ip,
            settings.login_lockout_minutes,
        )
        < 1
    ):
        raise StartupError("les limites de tentatives de connexion doivent être ≥ 1.")
    if settings.mode != "production":
        return
    if not settings.secure_cookies:
        log.warning("mode production sans PILOTIS_HTTPS=1 : cookies envoyés aussi en HTTP clair")
    if settings.secret_key == DEMO_SECRET_KEY:
        raise StartupError(
            "mode production avec la clé secrète de démonstration. Définissez PILOTIS_SECRET_KEY "
            '(par exemple : python -c "import secrets; print(secrets.token_urlsafe(48))").'
        )
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise StartupError(f"PILOTIS_SECRET_KEY est trop courte : au moins {MIN_SECRET_LENGTH} caractères.")


def check_no_demo_users(db: Database) -> None:
    """In production, refuse to start while an active demo account (published password) exists."""
    names = active_demo_users(db)
    if names:
        raise StartupError(
            "mode production avec des comptes de démonstration actifs "
            f"({', '.join(names)}), dont le "
            "mot de passe est publié. Désactivez-les (python -m pilotis users disable NOM) ou "
            "changez leur mot de passe (python -m pilotis users set-password NOM)."
        )


def configure_server(server: flask.Flask, settings: Settings) -> None:
    """Secret key, session and cookie flags, trusted proxies and protective response headers."""
    server.secret_key = settings.secret_key
    server.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="pilotis_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        # Idle expiry: the signed session cookie is refused once older than this, and every
        # request of a signed-in user renews it.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        # "Remember me" is never offered; these only matter if such a cookie were ever set.
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(minutes=settings.session_minutes),
        PREFERRED_URL_SCHEME="https" if settings.secure_cookies else "http",
    )
    if settings.proxies > 0:
        n = settings.proxies
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    @server.after_request
    def protective_headers(response: flask.Response) -> flask.Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if flask.request.path in ("/login", "/logout") or flask.request.path.startswith("/admin/"):
            response.headers["Cache-Control"] = "no-store"
        if settings.secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
