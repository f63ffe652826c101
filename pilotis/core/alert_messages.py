"""What an alert message says, in French: one message per recipient for every transition of
one evaluation (a storm of 40 instances is one message listing them, not 40).

Pure text building, no sending (:mod:`pilotis.accounts.alert_outbox` sends): the e-mail's
subject, plain text and HTML (value, threshold, since when, links to the dashboard and to the
acknowledgement), and the JSON document of a webhook. Levels are written with their icon AND
their word (« ⛔ crise »), never as a colour alone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from pilotis.core.alert_rules import AlertRule, level_rank, level_words
from pilotis.core.alert_states import EVENT_WORDS, Event
from pilotis.core.formatting import format_number

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class Notice:
    """One line of a message: an event of one instance, with its links."""

    instance: str
    place: str
    """The instance as shown (« Laval », « capteur 12 »)."""
    event: Event
    ack_url: str = ""
    """One-time acknowledgement link (empty for recoveries and errors)."""


def when(moment: dt.datetime | None) -> str:
    """A stored naive UTC time as « 05/12/2026 à 14 h 03 » (Paris time)."""
    if moment is None:
        return "—"
    local = moment.replace(tzinfo=dt.UTC).astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H h %M")


def number(value: float | None) -> str:
    """A value in French (« 1 234,5 »), « — » for none."""
    if value is None:
        return "—"
    decimals = 0 if float(value).is_integer() else 2
    return format_number(value, decimals)


def subject(rule: AlertRule, notices: list[Notice]) -> str:
    """« [Pilotis] ⛔ crise — Température des capteurs : 3 alertes déclenchées »."""
    worst = max((n.event.level for n in notices if n.event.kind not in ("recovered",)), key=level_rank, default=None)
    kinds = {n.event.kind for n in notices}
    if kinds == {"recovered"}:
        what = "retour à la normale" if len(notices) == 1 else f"{len(notices)} retours à la normale"
    elif len(notices) == 1:
        what = EVENT_WORDS[notices[0].event.kind].lower()
    else:
        what = f"{len(notices)} changements d'état"
    prefix = f"{level_words(worst)} — " if worst else ""
    return f"[Pilotis] {prefix}{rule.label} : {what}"


def _line(rule: AlertRule, notice: Notice) -> list[str]:
    event = notice.event
    lines = [f"- {notice.place} : {EVENT_WORDS[event.kind]}"]
    if event.level:
        lines.append(f"  Niveau : {level_words(event.level)}")
    if event.value is not None:
        threshold = rule.threshold_of(event.level)
        lines.append(
            f"  Valeur : {number(event.value)}" + (f" (seuil {number(threshold)})" if threshold is not None else "")
        )
    lines.append(f"  Depuis : {when(event.since)}")
    if event.detail:
        lines.append(f"  Détail : {event.detail}")
    if notice.ack_url:
        lines.append(f"  Acquitter : {notice.ack_url}")
    return lines


def text_body(rule: AlertRule, notices: list[Notice], dashboard_url: str, alerts_url: str) -> str:
    """The plain-text e-mail."""
    lines = [f"Règle : {rule.label}", ""]
    for notice in notices:
        lines += _line(rule, notice)
    lines += [""]
    if dashboard_url:
        lines.append(f"Tableau de bord : {dashboard_url}")
    lines += [f"Alertes en cours : {alerts_url}", "", "— Pilotis (message automatique, ne pas répondre)"]
    return "\n".join(lines) + "\n"


def html_body(rule: AlertRule, notices: list[Notice], dashboard_url: str, alerts_url: str) -> str:
    """The HTML e-mail (a table with headers; levels in words, not colours)."""
    rows = []
    for notice in notices:
        event = notice.event
        threshold = rule.threshold_of(event.level)
        ack = f'<a href="{escape(notice.ack_url)}">Acquitter</a>' if notice.ack_url else ""
        rows.append(
            "<tr>"
            f'<th scope="row">{escape(notice.place)}</th>'
            f"<td>{escape(EVENT_WORDS[event.kind])}</td>"
            f"<td>{escape(level_words(event.level))}</td>"
            f"<td>{escape(number(event.value))}</td>"
            f"<td>{escape(number(threshold))}</td>"
            f"<td>{escape(when(event.since))}</td>"
            f"<td>{ack}</td>"
            "</tr>"
        )
    links = f'<p><a href="{escape(dashboard_url)}">Ouvrir le tableau de bord</a></p>' if dashboard_url else ""
    return (
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(subject(rule, notices))}</title></head><body>"
        f"<h1>{escape(rule.label)}</h1>"
        '<table><thead><tr><th scope="col">Instance</th><th scope="col">Événement</th>'
        '<th scope="col">Niveau</th><th scope="col">Valeur</th><th scope="col">Seuil</th>'
        '<th scope="col">Depuis</th><th scope="col">Action</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{links}"
        f'<p><a href="{escape(alerts_url)}">Toutes les alertes en cours</a></p>'
        "<p>Pilotis — message automatique, ne pas répondre.</p></body></html>"
    )


def webhook_body(rule: AlertRule, notices: list[Notice], sent_for: dt.datetime) -> str:
    """The JSON document of a webhook (signed by the sender, see docs/alertes.md)."""
    document = {
        "rule": rule.id,
        "label": rule.label,
        "due_at": sent_for.replace(tzinfo=dt.UTC).isoformat(),
        "events": [
            {
                "instance": n.instance,
                "place": n.place,
                "kind": n.event.kind,
                "title": EVENT_WORDS[n.event.kind],
                "before": n.event.before,
                "after": n.event.after,
                "level": n.event.level,
                "value": n.event.value,
                "threshold": rule.threshold_of(n.event.level),
                "since": n.event.since.replace(tzinfo=dt.UTC).isoformat() if n.event.since else None,
            }
            for n in notices
        ],
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True)
