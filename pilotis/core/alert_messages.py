"""What an alert message says, in French: one message per recipient for every transition of
one evaluation (a storm of 40 instances is one message listing them, not 40).

Pure text building, no sending (:mod:`pilotis.accounts.alert_outbox` sends): the e-mail's
subject, plain text and HTML (value, threshold, since when, links to the dashboard and to the
acknowledgement), the JSON document of a webhook and the content of a Matrix message (the
e-mail's text as ``body``, an HTML fragment as ``formatted_body``). Levels are written with their
icon AND their word (« ⛔ crise »), never as a colour alone. The plain text and the Matrix message
also exist in English (``lang="en"``, a Matrix room's ``lang``); the rule's label and the
instances' names come from the YAML and stay as written.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from html import escape
from zoneinfo import ZoneInfo

from pilotis.core.alert_rules import LEVEL_ICONS, AlertRule, level_rank, level_words
from pilotis.core.alert_states import EVENT_WORDS, Event
from pilotis.core.formatting import format_number

PARIS = ZoneInfo("Europe/Paris")
EVENT_WORDS_EN = {
    "firing": "Alert fired",
    "worse": "Alert worsened",
    "reminder": "Reminder: alert still on",
    "escalation": "Escalation: alert not acknowledged",
    "recovered": "Back to normal",
    "nodata": "No more data",
    "error": "Evaluation error",
}
"""English titles of the events (French: :data:`~pilotis.core.alert_states.EVENT_WORDS`)."""
LEVEL_WORDS_EN = {"vigilance": "watch", "alerte": "alert", "crise": "crisis"}
WORDS = {
    "rule": {"fr": "Règle", "en": "Rule"},
    "level": {"fr": "Niveau", "en": "Level"},
    "value": {"fr": "Valeur", "en": "Value"},
    "threshold": {"fr": "seuil", "en": "threshold"},
    "since": {"fr": "Depuis", "en": "Since"},
    "detail": {"fr": "Détail", "en": "Detail"},
    "ack": {"fr": "Acquitter", "en": "Acknowledge"},
    "dashboard": {"fr": "Tableau de bord", "en": "Dashboard"},
    "alerts": {"fr": "Alertes en cours", "en": "Current alerts"},
    "footer": {
        "fr": "— Pilotis (message automatique, ne pas répondre)",
        "en": "— Pilotis (automatic message, do not reply)",
    },
}
"""The words of the plain text and of the Matrix message, by language."""


@dataclass(frozen=True)
class Notice:
    """One line of a message: an event of one instance, with its links."""

    instance: str
    place: str
    """The instance as shown (« Laval », « capteur 12 »)."""
    event: Event
    ack_url: str = ""
    """One-time acknowledgement link (empty for recoveries and errors)."""


def when(moment: dt.datetime | None, lang: str = "fr") -> str:
    """A stored naive UTC time as « 05/12/2026 à 14 h 03 » (Paris time; English: « 2026-12-05 14:03 (Paris) »)."""
    if moment is None:
        return "—"
    local = moment.replace(tzinfo=dt.UTC).astimezone(PARIS)
    return local.strftime("%d/%m/%Y à %H h %M" if lang == "fr" else "%Y-%m-%d %H:%M (Paris)")


def number(value: float | None, lang: str = "fr") -> str:
    """A value in French (« 1 234,5 ») or English (« 1,234.5 »), « — » for none."""
    if value is None:
        return "—"
    decimals = 0 if float(value).is_integer() else 2
    return format_number(value, decimals, lang)


def event_words(kind: str, lang: str = "fr") -> str:
    """The title of an event (« Alerte déclenchée », « Alert fired »)."""
    return EVENT_WORDS_EN[kind] if lang == "en" else EVENT_WORDS[kind]


def level_text(level: str | None, lang: str = "fr") -> str:
    """A level's icon and word in ``lang`` (« ⛔ crise », « ⛔ crisis »): never a colour alone."""
    if lang == "en" and level in LEVEL_WORDS_EN:
        return f"{LEVEL_ICONS[level]} {LEVEL_WORDS_EN[level]}"
    return level_words(level)


def subject(rule: AlertRule, notices: list[Notice], lang: str = "fr") -> str:
    """« [Pilotis] ⛔ crise — Température des capteurs : 3 changements d'état »."""
    worst = max((n.event.level for n in notices if n.event.kind not in ("recovered",)), key=level_rank, default=None)
    kinds = {n.event.kind for n in notices}
    count = len(notices)
    if kinds == {"recovered"}:
        if lang == "en":
            what = "back to normal" if count == 1 else f"{count} back to normal"
        else:
            what = "retour à la normale" if count == 1 else f"{count} retours à la normale"
    elif count == 1:
        what = event_words(notices[0].event.kind, lang).lower()
    else:
        what = f"{count} changements d'état" if lang == "fr" else f"{count} state changes"
    prefix = f"{level_text(worst, lang)} — " if worst else ""
    return f"[Pilotis] {prefix}{rule.label}{' : ' if lang == 'fr' else ': '}{what}"


def _fields(rule: AlertRule, notice: Notice, lang: str) -> list[tuple[str, str]]:
    """``(label, text)`` of one notice's details, in ``lang``: what the plain text and the Matrix
    HTML both show (level, value and threshold, since when, detail)."""
    event = notice.event
    colon = " : " if lang == "fr" else ": "
    words = {key: value[lang] for key, value in WORDS.items()}
    found = []
    if event.level:
        found.append((words["level"], level_text(event.level, lang)))
    if event.value is not None:
        threshold = rule.threshold_of(event.level)
        extra = f" ({words['threshold']} {number(threshold, lang)})" if threshold is not None else ""
        found.append((words["value"], number(event.value, lang) + extra))
    found.append((words["since"], when(event.since, lang)))
    if event.detail:
        found.append((words["detail"], event.detail))
    return [(label + colon, text) for label, text in found]


def text_body(rule: AlertRule, notices: list[Notice], dashboard_url: str, alerts_url: str, lang: str = "fr") -> str:
    """The plain-text e-mail (also the ``body`` of a Matrix message)."""
    colon = " : " if lang == "fr" else ": "
    words = {key: value[lang] for key, value in WORDS.items()}
    lines = [f"{words['rule']}{colon}{rule.label}", ""]
    for notice in notices:
        lines.append(f"- {notice.place}{colon}{event_words(notice.event.kind, lang)}")
        lines += [f"  {label}{text}" for label, text in _fields(rule, notice, lang)]
        if notice.ack_url:
            lines.append(f"  {words['ack']}{colon}{notice.ack_url}")
    lines += [""]
    if dashboard_url:
        lines.append(f"{words['dashboard']}{colon}{dashboard_url}")
    lines += [f"{words['alerts']}{colon}{alerts_url}", "", words["footer"]]
    return "\n".join(lines) + "\n"


def matrix_content(
    rule: AlertRule, notices: list[Notice], dashboard_url: str, alerts_url: str, lang: str = "fr"
) -> dict[str, str]:
    """The content of the ``m.room.message`` telling ``notices`` in a Matrix room: the plain text
    of the e-mail as ``body``, and as ``formatted_body`` an HTML fragment using only tags the
    Matrix specification recommends (``p``, ``strong``, ``ul``, ``li``, ``a``, ``br``), the same
    facts as the e-mail (event, level icon and word, value, threshold, since when, links)."""
    words = {key: value[lang] for key, value in WORDS.items()}
    colon = " : " if lang == "fr" else ": "
    items = []
    for notice in notices:
        details = "".join(f"<br>{escape(label)}{escape(text)}" for label, text in _fields(rule, notice, lang))
        ack = f'<br><a href="{escape(notice.ack_url)}">{escape(words["ack"])}</a>' if notice.ack_url else ""
        items.append(
            f"<li><strong>{escape(notice.place)}</strong>{escape(colon)}"
            f"{escape(event_words(notice.event.kind, lang))}{details}{ack}</li>"
        )
    links = [f'<a href="{escape(dashboard_url)}">{escape(words["dashboard"])}</a>'] if dashboard_url else []
    links.append(f'<a href="{escape(alerts_url)}">{escape(words["alerts"])}</a>')
    html = (
        f"<p><strong>{escape(subject(rule, notices, lang))}</strong></p>"
        f"<ul>{''.join(items)}</ul><p>{' · '.join(links)}</p>"
    )
    return {
        "msgtype": "m.text",
        "body": f"{subject(rule, notices, lang)}\n\n{text_body(rule, notices, dashboard_url, alerts_url, lang)}",
        "format": "org.matrix.custom.html",
        "formatted_body": html,
    }


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
