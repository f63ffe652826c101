"""Server-wide security settings: secret key, cookie flags, session expiry, proxies, headers,
and the production-mode checks that refuse to start with demo secrets or demo accounts."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import flask
from sqlalchemy import func, select
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as WerkzeugResponse

from pilotis.accounts.db import Database
from pilotis.accounts.models import User
from pilotis.core.errors import StartupError
from pilotis.core.settings import MODES, Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
from pilotis.accounts.users import active_demo_users

log = logging.getLogger(__name__)
MIN_SECRET_LENGTH = 32
PUBLISHED_KEYS = frozenset({"pilotis-demo-cle-secrete-a-ne-pas-utiliser-en-production"})
"""Keys once published in this repository (demo mode's fixed key before 2026-12): refused in every
mode, since anyone can sign a session with them."""


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
    if settings.max_request_bytes < 16_384:
        raise StartupError("PILOTIS_MAX_REQUEST_BYTES doit valoir au moins 16384 (16 Kio).")
    check_secret_key(settings)
    if settings.mode != "production":
        return
    if not settings.secure_cookies:
        log.warning("mode production sans PILOTIS_HTTPS=1 : cookies envoyés aussi en HTTP clair")
    if len(settings.secret_key) < MIN_SECRET_LENGTH:
        raise StartupError(f"PILOTIS_SECRET_KEY est trop courte : au moins {MIN_SECRET_LENGTH} caractères.")


GENERATE_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


def check_secret_key(settings: Settings) -> None:
    """Refuse a published key in any mode, and production without a key of its own."""
    if settings.secret_key in PUBLISHED_KEYS:
        raise StartupError(
            "PILOTIS_SECRET_KEY vaut l'ancienne clé de démonstration, publiée dans le code source : "
            "n'importe qui pourrait signer une session. Retirez PILOTIS_SECRET_KEY (mode démonstration : "
            f"une clé aléatoire est créée dans le dossier d'instance) ou générez-en une : {GENERATE_KEY}."
        )
    if settings.mode == "production" and not settings.secret_key:
        raise StartupError(
            "mode production sans clé secrète. Définissez PILOTIS_SECRET_KEY (ou PILOTIS_SECRET_KEY_FILE, "
            f"un fichier qui la contient), au moins {MIN_SECRET_LENGTH} caractères, par exemple : {GENERATE_KEY}."
        )
    if not settings.secret_key:
        raise StartupError("aucune clé secrète : définissez PILOTIS_SECRET_KEY.")


def check_only_demo_accounts(db: Database) -> None:
    """In demo mode, refuse to start while the database holds accounts that are not demo accounts.

    Demo mode prints the demo passwords on the login page and creates demo accounts: a database of
    real accounts (a former production database, an account whose password was changed) must be
    served in production mode, never in demo mode.
    """
    with db.session() as session:
        count = session.scalar(select(func.count(User.id)).where(User.demo.is_(False))) or 0
        names = list(session.scalars(select(User.username).where(User.demo.is_(False)).order_by(User.id).limit(5)))
    if count:
        more = f" et {count - len(names)} autre(s)" if count > len(names) else ""
        raise StartupError(
            f"mode démonstration alors que la base contient {count} compte(s) qui ne sont pas des comptes "
            f"de démonstration ({', '.join(names)}{more}). Pour servir ces comptes, démarrez en mode "
            "production : PILOTIS_MODE=production et PILOTIS_SECRET_KEY=… (voir « Passer en production » "
            "dans le README). Pour une démonstration, utilisez une autre base (PILOTIS_DATABASE_URL ou "
            "un autre PILOTIS_INSTANCE_DIR)."
        )


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
    install_demo_loopback_guard(server, settings)  # before ProxyFix wraps it: sees the real client
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


# --------------------------------------------------------------------------- demo mode: this machine only

LOCAL_ONLY_TEXT = (
    "Ce portail Pilotis est en mode démonstration : il ne répond qu'aux navigateurs de la machine qui "
    "l'héberge. Pour l'ouvrir au réseau, passez en mode production (PILOTIS_MODE=production, "
    "PILOTIS_SECRET_KEY=…), ou, pour une démonstration en réseau, définissez PILOTIS_HOST=0.0.0.0."
)


def is_loopback(address: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and their IPv4-mapped forms; False for anything else or unreadable."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool((mapped or ip).is_loopback)


def serves_network(settings: Settings) -> bool:
    """Whether the portal answers other machines: production, or demo told so by PILOTIS_HOST."""
    return settings.mode != "demo" or not is_loopback(settings.host)


class LocalOnly:
    """WSGI middleware of demo mode: a client that is not this machine gets a French 403.

    ``python app.py`` binds the loopback address, but ``gunicorn -b 0.0.0.0`` would still open a
    demo portal to the network: this guard holds whatever server runs the app. Wrapped inside
    ProxyFix, it judges the real client of a trusted reverse proxy.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if is_loopback(environ.get("REMOTE_ADDR")):
            return self.app(environ, start_response)
        response = WerkzeugResponse(LOCAL_ONLY_TEXT, status=403, content_type="text/plain; charset=utf-8")
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)


def install_demo_loopback_guard(server: flask.Flask, settings: Settings) -> None:
    """Demo mode answers this machine only, unless PILOTIS_HOST names a non-loopback address."""
    if serves_network(settings):
        if settings.mode == "demo":
            log.warning("mode démonstration ouvert au réseau (PILOTIS_HOST=%s)", settings.host)
        return
    wrapped: Any = LocalOnly(server.wsgi_app)
    server.wsgi_app = wrapped  # type: ignore[method-assign]
