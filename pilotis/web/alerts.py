"""/alertes: the current alerts and their history, filtered by what the signed-in user may see,
with the acknowledge and silence actions (POST forms with CSRF, audited); administrators also
see the deliveries (outbox). /alertes/acquitter/<token>: the one-time link of a message (a
confirmation page, then a POST: a mail scanner opening the link acknowledges nothing).

What a user sees is decided by :func:`pilotis.core.access.may_see_alert_rule` (recipient of the
rule, or reads everything) and :func:`~pilotis.core.access.can_receive_alert` (the instance lies
inside his territory), the same decisions as for the messages.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import flask

from pilotis.accounts import alert_actions, audit
from pilotis.accounts.alert_engine import naive_utc
from pilotis.accounts.db import get_db
from pilotis.core.access import Principal, can_receive_alert, may_see_alert_rule, seance_shows_alert
from pilotis.core.alert_messages import PARIS, number, when
from pilotis.core.alert_rules import AlertRule, level_rank, level_words
from pilotis.core.alert_states import EVENT_WORDS, STATE_WORDS
from pilotis.ui.portal import Portal
from pilotis.web.auth import current_session_user, login_url
from pilotis.web.auth_pages import page_context, render_message
from pilotis.web.enforce import current_principal

bp = flask.Blueprint("pilotis_alerts", __name__, url_prefix="/alertes", template_folder="templates")
BAND_REFRESH = int(os.environ.get("PILOTIS_ALERTS_BAND_SECONDS", "60"))
"""Seconds between two updates of the dashboards' « alertes en cours » band."""


def _portal() -> Portal:
    portal: Portal = flask.current_app.extensions["pilotis"]
    return portal


def _now() -> dt.datetime:
    return naive_utc(dt.datetime.now(dt.UTC))


def _visible(principal: Principal, rule_id: str, territory: str | None) -> AlertRule | None:
    """The rule when ``principal`` may see this instance of it (None otherwise: deny)."""
    portal = _portal()
    rule = portal.registry.alerts.get(rule_id)
    if rule is None or not may_see_alert_rule(principal, rule, portal.registry):
        return None
    if not can_receive_alert(principal, territory, portal.territories):
        return None
    # a wall screen: only the places its séance's items show (an item may be one EPCI's)
    return rule if seance_shows_alert(principal, rule, territory, portal.registry, portal.territories) else None


def _signed_in() -> Principal | None:
    user = current_session_user()
    return user.principal if user is not None else None


@bp.route("", methods=["GET"])
def page() -> Any:
    """Current alerts, silences, history (and deliveries for administrators)."""
    principal = _signed_in()
    if principal is None:
        return flask.redirect(login_url())
    db, now = get_db(), _now()
    current = []
    for row in alert_actions.current(db):
        rule = _visible(principal, row.rule, row.territory)
        if rule is not None:
            current.append(
                {
                    "row": row,
                    "rule": rule,
                    "state": STATE_WORDS.get(row.state, row.state),
                    "level": level_words(row.level),
                    "value": number(row.value),
                    "since": when(row.fired_at if row.state in ("firing", "recovering") else row.since),
                    "ackable": row.state in alert_actions.ACKNOWLEDGEABLE and row.acked_at is None,
                }
            )
    history = [
        {
            "row": row,
            "rule": rule,
            "event": EVENT_WORDS.get(row.kind, row.kind),
            "level": level_words(row.level),
            "value": number(row.value),
            "at": when(row.at),
        }
        for row in alert_actions.history(db)
        if (rule := _visible(principal, row.rule, row.territory)) is not None
    ]
    rules = {
        rid: r for rid, r in _portal().registry.alerts.items() if may_see_alert_rule(principal, r, _portal().registry)
    }
    silences = [
        s
        for s in alert_actions.silences(db, now)
        if s.rule in rules and (s.instance is None or principal.territory is None)
    ]
    deliveries = alert_actions.deliveries(db) if "admin" in principal.roles else []
    return flask.render_template(
        "pilotis/alerts.html",
        current=current,
        history=history,
        rules=rules,
        silences=silences,
        deliveries=deliveries,
        when=when,
        notice=flask.request.args.get("ok", ""),
        error=flask.request.args.get("erreur", ""),
        **page_context(),
    )


def _back(**query: str) -> Any:
    """Back to /alertes with a message (``ok=`` or ``erreur=``), 303 See Other."""
    return flask.redirect(flask.url_for("pilotis_alerts.page", **query), code=303)  # type: ignore[arg-type]


@bp.route("/acquitter", methods=["POST"])
def acknowledge() -> Any:
    """Acknowledge from the page (the user must see the instance)."""
    principal = _signed_in()
    if principal is None:
        return flask.redirect(login_url("/alertes"))
    form = flask.request.form
    rule_id, instance = form.get("rule", ""), form.get("instance", "")
    row = next((r for r in alert_actions.current(get_db()) if (r.rule, r.instance) == (rule_id, instance)), None)
    if row is None or _visible(principal, rule_id, row.territory) is None:
        return render_message("Alerte introuvable", "Cette alerte n'existe pas ou ne vous est pas visible.", status=404)
    result = alert_actions.acknowledge(get_db(), rule_id, instance, principal.username, _now())
    if result.ok:
        audit.record("alert_ack", target=f"/alertes/{rule_id}/{instance}", detail="depuis la page /alertes")
    return _back(**({"ok": result.message} if result.ok else {"erreur": result.message}))


@bp.route("/silence", methods=["POST"])
def silence() -> Any:
    """Silence a rule (or one of its instances) until a date, with a reason (both required)."""
    principal = _signed_in()
    if principal is None:
        return flask.redirect(login_url("/alertes"))
    form = flask.request.form
    rule_id, instance = form.get("rule", ""), form.get("instance", "").strip()
    rule = _portal().registry.alerts.get(rule_id)
    if rule is None or not may_see_alert_rule(principal, rule, _portal().registry):
        return render_message("Règle introuvable", "Cette règle n'existe pas ou ne vous est pas visible.", status=404)
    if instance:
        row = next((r for r in alert_actions.states(get_db(), rule_id) if r.instance == instance), None)
        if row is None or _visible(principal, rule_id, row.territory) is None:
            return _back(erreur="Champ « Instance » : aucune instance de ce nom dans votre périmètre.")
    elif not can_receive_alert(principal, None, _portal().territories):
        return _back(erreur="Champ « Instance » : votre compte est limité à un territoire, nommez l'instance.")
    reason = form.get("reason", "").strip()
    try:
        until = dt.datetime.fromisoformat(form.get("until", "")).replace(tzinfo=PARIS)
    except ValueError:
        return _back(erreur="Champ « Jusqu'au » : date et heure illisibles (attendu : 2026-12-24T18:00).")
    end, now = naive_utc(until), _now()
    if end <= now:
        return _back(erreur="Champ « Jusqu'au » : la fin du silence doit être dans le futur.")
    if not reason:
        return _back(erreur="Champ « Motif » : dites pourquoi les messages sont suspendus.")
    alert_actions.silence(get_db(), rule_id, instance or None, end, reason, principal.username, now)
    audit.record(
        "alert_silence", target=f"/alertes/{rule_id}/{instance or '*'}", detail=f"jusqu'au {when(end)} : {reason}"
    )
    return _back(ok=f"Silence enregistré jusqu'au {when(end)}.")


@bp.route("/acquitter/<token>", methods=["GET", "POST"])
def acknowledge_link(token: str) -> Any:
    """The link of a message: a confirmation page (GET), the acknowledgement (POST, once)."""
    secret = _portal().settings.secret_key
    target = alert_actions.token_target(secret, token)
    if target is None:
        return render_message("Lien invalide", "Lien d'acquittement invalide ou expiré.", status=404)
    rule_id, instance, _ = target
    rule = _portal().registry.alerts.get(rule_id)
    label = rule.label if rule else rule_id
    if flask.request.method == "GET":
        text = page_context()["t"]("alerts_ack_link_text", rule=label, instance=instance)
        return render_message("Acquitter une alerte", text, form_action=flask.request.path, form_label="Acquitter")
    result = alert_actions.acknowledge_token(get_db(), secret, token, _now())
    if result.ok:
        audit.record("alert_ack", target=f"/alertes/{rule_id}/{instance}", detail="par le lien du message")
    return render_message(
        "Acquittement" if result.ok else "Acquittement refusé", result.message, status=200 if result.ok else 409
    )


@bp.route("/en-cours.json", methods=["GET"])
def band() -> Any:
    """What the « alertes en cours » band of the dashboards shows (assets/pilotis-alert-band.js
    asks every ``refresh`` seconds): the number of alerts this user may see, the worst level, a
    sentence in the page language. Not cached by the browser nor shared: it depends on the user.

    A wall screen (display link) is answered too, with the alerts of the rules whose dashboard its
    séance shows, and no link (it may open nothing but its séance)."""
    principal = current_principal()
    if principal is None:
        return flask.jsonify({"count": 0}), 401
    visible = [
        row
        for row in alert_actions.current(get_db())
        if row.state in alert_actions.ACKNOWLEDGEABLE and _visible(principal, row.rule, row.territory) is not None
    ]
    worst = max((row.level for row in visible), key=level_rank, default=None)
    lang = page_context()["lang"]
    text = page_context()["t"]("alerts_band", count=len(visible), level=level_words(worst)) if visible else ""
    response = flask.jsonify(
        {
            "count": len(visible),
            "level": worst,
            "text": text,
            "label": page_context()["t"]("alerts_band_label"),
            "link": page_context()["t"]("alerts_band_link") if principal.seance is None else None,
            "lang": lang,
            "refresh": BAND_REFRESH,
        }
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
