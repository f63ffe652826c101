"""Sign-in and sign-out: the login page, Flask-Login sessions, the current :class:`Principal`.

:func:`install_auth` wires everything on the Flask server inside ``create_app``: database and
migrations, demo accounts, production checks, cookie flags, CSRF, Flask-Login, the ``/login``
and ``/logout`` routes and the admin pages. Access control (who may see what) is not decided
here: it asks :func:`current_principal` and :func:`pilotis.core.access.can_view`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import TYPE_CHECKING, Any

import flask
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError

from pilotis.accounts import access_requests, audit, ldap_directory, passwords, user_sessions
from pilotis.accounts.db import EXTENSION, Database, get_db
from pilotis.accounts.sso_accounts import Admitted
from pilotis.accounts.throttle import Throttle, lockout_message
from pilotis.accounts.users import (
    ensure_demo_users,
    find,
    normalize_username,
    sign_out_everywhere,
    sync_departments,
)
from pilotis.core.access import Grant, Principal
from pilotis.core.errors import StartupError
from pilotis.core.sso_config import LDAP_SOURCE
from pilotis.web import oidc_client, security, sso_signin
from pilotis.web.auth_pages import render_login, render_message, safe_next
from pilotis.web.csrf import clear_cookie, init_csrf
from pilotis.web.sso_signin import sso_config

if TYPE_CHECKING:
    from pilotis.ui.portal import Portal

log = logging.getLogger(__name__)
LOGIN_FAILED = "Identifiant ou mot de passe incorrect."
LOGGED_OUT = "Vous êtes déconnecté."
LOGIN_REQUIRED = "Connectez-vous pour accéder à cette page."
MAX_PASSWORD = 1024
DIRECTORY_DOWN = "L'annuaire de la collectivité ne répond pas : réessayez dans quelques minutes."

bp = flask.Blueprint("pilotis_auth", __name__, template_folder="templates")


@dataclass(frozen=True)
class SessionUser(UserMixin):
    """The signed-in user of a request (a copy of the row: nothing is attached to a DB session)."""

    id: int
    username: str
    display_name: str
    department: str | None
    territory: str | None
    roles: frozenset[str] = field(default_factory=frozenset)
    session_id: str = field(default="", repr=False)
    """The random id of the server-side session (see :mod:`pilotis.accounts.user_sessions`); never logged."""
    grants: tuple[Grant, ...] = ()
    """Dashboards granted for a period (:mod:`pilotis.accounts.access_requests`), read with the session."""

    def get_id(self) -> str:
        """The session id: what the signed cookie carries, looked up (hashed) on every request."""
        return self.session_id

    @property
    def principal(self) -> Principal:
        """What access decisions need to know."""
        return Principal(
            username=self.username,
            department=self.department,
            roles=self.roles,
            territory=self.territory,
            grants=self.grants,
        )

    @property
    def is_admin(self) -> bool:
        """Holds the `admin` role (manages users, reads the audit log)."""
        return "admin" in self.roles

    @classmethod
    def of(cls, user: Any, roles: Iterable[str], session_id: str, grants: tuple[Grant, ...] = ()) -> SessionUser:
        """The session copy of a ``users`` row (an ORM object or a Core row), its roles and grants."""
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            department=user.department,
            territory=user.territory,
            roles=frozenset(roles),
            session_id=session_id,
            grants=grants,
        )


# --------------------------------------------------------------------------- public helpers


def current_principal() -> Principal | None:
    """The signed-in user of this request as a :class:`Principal`; None when anonymous."""
    if not flask.has_request_context():
        return None
    user = current_user
    if user is None or not user.is_authenticated:
        return None
    principal: Principal = user.principal
    return principal


def current_session_user() -> SessionUser | None:
    """The signed-in :class:`SessionUser`, or None."""
    if not flask.has_request_context() or not current_user or not current_user.is_authenticated:
        return None
    user: SessionUser = current_user._get_current_object()
    return user


def login_url(next_path: str | None = None) -> str:
    """The login page, coming back to ``next_path`` (default: the current page) afterwards."""
    if next_path is None and flask.has_request_context():
        next_path = flask.request.full_path.rstrip("?")
    target = safe_next(next_path, "")
    return flask.url_for("pilotis_auth.login", next=target) if target and target != "/" else "/login"


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator: anonymous → login page; signed in lacking ``roles`` → 403 (audited)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_session_user()
            if user is None:
                return flask.redirect(login_url())
            if not user.roles & set(roles):
                audit.record(
                    "access_denied",
                    target=flask.request.path,
                    detail=f"rôle requis : {', '.join(roles)}",
                )
                return render_message("Accès refusé", "Votre compte n'a pas accès à cette page.", status=403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _throttle() -> Throttle:
    settings = flask.current_app.extensions["pilotis"].settings
    return Throttle(
        get_db(),
        settings.login_max_failures_account,
        settings.login_max_failures_ip,
        settings.login_lockout_minutes,
    )


# --------------------------------------------------------------------------- routes


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """GET: the form. POST: check throttling, then the password (same cost for unknown users).

    The password is checked locally for a local account (unless `config/sso.yaml` says
    ``local_accounts: false``), else by the LDAP / Active Directory directory when one is
    configured (the mapping rules then decide what the person may see).
    """
    request = flask.request
    next_url = safe_next(request.values.get("next"), "")
    if request.method == "GET":
        if current_session_user() is not None:
            return flask.redirect(next_url or "/")
        notice = LOGGED_OUT if request.args.get("logged_out") else None
        return render_login(next_url=next_url, notice=notice)

    typed = (request.form.get("username") or "")[:150]
    username = normalize_username(typed)
    password = (request.form.get("password") or "")[:MAX_PASSWORD]
    ip = request.remote_addr
    throttle = _throttle()
    admission = throttle.begin(username, ip)  # counted before the check: atomic across instances
    if admission.attempt is None:
        audit.record("login_locked", username=username or None, detail="tentative pendant le blocage")
        return render_login(lockout_message(admission.locked_minutes or 1), 429, username=typed, next_url=next_url)

    config = sso_config()
    db = get_db()
    with db.session() as session:
        user = find(session, username) if username else None
        local = user is not None and user.auth_source is None
        allowed = config is None or config.local_accounts
        ok = passwords.verify(user.password_hash if local and allowed and user else None, password)
        ok = ok and user is not None and user.active
        if ok and user is not None and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        reason = (
            "compte inconnu"
            if user is None
            else "compte d'authentification unique"
            if not local
            else "comptes locaux désactivés"
            if not allowed
            else "compte désactivé"
            if not user.active
            else "mot de passe incorrect"
        )
        signed_in = user if ok and user is not None else None
        roles = list(user.roles) if signed_in is not None and user is not None else []
    directory = config.ldap if config is not None and not local else None
    if directory is not None and config is not None and (user is None or user.auth_source == LDAP_SOURCE):
        try:
            found = ldap_directory.authenticate(directory, username, password)
        except ldap_directory.DirectoryUnavailable as exc:
            throttle.finish(admission.attempt, success=False)
            audit.record("login_failure", username=username or None, detail=f"annuaire injoignable ({exc})")
            return render_login(DIRECTORY_DOWN, 503, username=typed, next_url=next_url)
        throttle.finish(admission.attempt, success=found is not None)
        if found is not None:
            admitted = sso_signin.admit(config, sso_signin.directory_identity(found), "annuaire")
            if not isinstance(admitted, Admitted):
                return admitted
            start_session(admitted.user, admitted.roles, "ldap")
            return flask.redirect(next_url or "/")
        reason = "mot de passe refusé par l'annuaire"
    else:
        throttle.finish(admission.attempt, success=signed_in is not None)

    if signed_in is None:
        audit.record("login_failure", username=username or None, detail=reason)
        minutes = throttle.locked_minutes(username, ip)
        if minutes is not None:
            return render_login(lockout_message(minutes), 429, username=typed, next_url=next_url)
        return render_login(LOGIN_FAILED, 401, username=typed, next_url=next_url)
    start_session(signed_in, roles, "local")
    return flask.redirect(next_url or "/")


def start_session(user: Any, roles: Iterable[str], method: str) -> SessionUser:
    """Open a server-side session for ``user`` in this browser (the one it had ends); audited."""
    db = get_db()
    settings = flask.current_app.extensions["pilotis"].settings
    previous = current_session_user()
    if previous is not None:  # signing in again in the same browser: the session it replaces ends
        user_sessions.revoke(db, previous.session_id, "replaced")
    session_id = user_sessions.open_session(db, user.id, settings.session_max_hours)
    flask.session.clear()  # new session: no fixation of the session or of its CSRF secret
    signed = SessionUser.of(user, roles, session_id)
    login_user(signed, remember=False)
    flask.session.permanent = True
    audit.record("login_success", username=user.username, detail="" if method == "local" else method)
    return signed


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    """POST (with the CSRF token): sign out. GET: a confirmation button (no sign-out by a link).

    With ``everywhere=1`` (the account menu's « Se déconnecter partout »): end every session of
    the account, on every device and browser, not only this one.
    """
    user = current_session_user()
    everywhere = flask.request.values.get("everywhere") == "1"
    if flask.request.method == "GET":
        if user is None:
            return flask.redirect("/login")
        if everywhere:
            return render_message(
                "Déconnexion partout",
                "Voulez-vous fermer toutes vos sessions ouvertes, sur tous les appareils et navigateurs ?",
                form_action=flask.url_for("pilotis_auth.logout", everywhere=1),
                form_label="Se déconnecter partout",
            )
        return render_message(
            "Déconnexion",
            "Voulez-vous vous déconnecter du portail ?",
            form_action=flask.url_for("pilotis_auth.logout"),
            form_label="Se déconnecter",
        )
    if user is not None and everywhere:
        count = sign_out_everywhere(get_db(), user.username, "signout_everywhere")
        audit.record(
            "sessions_revoked", username=user.username, target=user.username, detail=f"{count} session(s) fermée(s)"
        )
    elif user is not None:
        user_sessions.revoke(get_db(), user.session_id, "logout")
        audit.record("logout", username=user.username)
    return _signed_out(provider_logout_url() if user is not None else None)


def provider_logout_url() -> str | None:
    """Where to end the OpenID provider's session too (RP-initiated logout), if this one came from one."""
    signed = flask.session.get("sso")
    config = sso_config()
    if not isinstance(signed, dict) or config is None:
        return None
    provider = config.provider(str(signed.get("provider")))
    if provider is None:
        return None
    back = flask.url_for("pilotis_auth.login", logged_out=1, _external=True)
    return oidc_client.logout_url(provider, str(signed.get("id_token") or "") or None, back)


def _signed_out(target: str | None = None) -> Any:
    """Clear this browser's session and CSRF cookie; back to the login page with a notice (or to
    the provider's end-session page, which comes back there)."""
    logout_user()
    flask.session.clear()
    response = flask.redirect(target or flask.url_for("pilotis_auth.login", logged_out=1))
    settings = flask.current_app.extensions["pilotis"].settings
    return clear_cookie(response, secure=settings.secure_cookies)


# --------------------------------------------------------------------------- wiring


def _load_user(session_id: str) -> SessionUser | None:
    """Flask-Login's user loader: the server-side session ``session_id`` and its account.

    None (anonymous) when the session is unknown, revoked, past its absolute end or idle, or the
    account is disabled. Asked on every request (each Dash callback is one), so it is ONE indexed
    query (:data:`pilotis.accounts.user_sessions.SESSION_QUERY`, Core, no ORM objects: the session,
    the account, its roles and its granted dashboards), run again once on a fresh connection if the
    connection was cut; ``last_seen_at`` is written only every few minutes.
    """
    if not user_sessions.well_formed(session_id):
        return None  # a cookie of the previous format (`<id>:<version>`) or forged: anonymous
    db = get_db()
    id_hash = user_sessions.token_hash(session_id)
    now = user_sessions.utcnow()
    rows = db.read(user_sessions.SESSION_QUERY, {"id_hash": id_hash, "now": now})
    if not rows:
        return None
    first = rows[0]
    idle = flask.current_app.extensions["pilotis"].settings.session_minutes
    if not first.active or not user_sessions.is_live(first, idle, now):
        return None
    if user_sessions.needs_touch(first, idle, now):
        try:
            user_sessions.touch(db, id_hash, idle, now)
        except SQLAlchemyError:  # activity is best effort: never fail a request for it
            log.warning("session : last_seen_at non mis à jour", exc_info=True)
    roles = {row.role for row in rows if row.role}
    return SessionUser.of(first, roles, session_id, access_requests.grants_of(rows))


def install_auth(server: flask.Flask, portal: Portal) -> Database:
    """Everything about authentication on ``server``; raises :class:`StartupError` when unsafe.

    Order: settings checks (production), cookie flags, database migration, org chart copy,
    demo accounts (demo mode) or demo-account check (production), then Flask-Login and CSRF.
    The routes (``bp``: ``/login``, ``/logout``) are registered by ``app.py`` with the others.
    """
    settings = portal.settings
    security.check_settings(settings)
    for provider in portal.registry.sso.oidc if portal.registry.sso else []:
        if provider.client_secret_env and not oidc_client.secret_of(provider):
            raise StartupError(
                f"config/sso.yaml : le secret du fournisseur `{provider.id}` est attendu dans la variable "
                f"d'environnement {provider.client_secret_env} (ou {provider.client_secret_env}_FILE), absente."
            )
    security.configure_server(server, settings)
    db = Database(settings.database_url)
    try:
        db.upgrade()
        sync_departments(db, portal.registry.departments)
        if settings.mode == "production":
            security.check_no_demo_users(db)
        else:
            security.check_only_demo_accounts(db)  # real accounts are served in production mode only
            if ensure_demo_users(db):
                log.warning("mode démonstration : comptes de démonstration créés (mot de passe publié)")
    except BaseException:
        db.dispose()
        raise
    server.extensions[EXTENSION] = db

    manager = LoginManager()
    manager.session_protection = "strong"
    manager.login_view = "pilotis_auth.login"
    manager.login_message = LOGIN_REQUIRED
    manager.login_message_category = "info"
    manager.user_loader(_load_user)
    manager.init_app(server)
    init_csrf(server, settings, login_page=render_login, message_page=render_message)
    return db
