"""The texts assets/seance.js writes or says (slide announcements, pause button, « 2 éléments
masqués », late data), rendered by the server in the page's language as ``data-text-*``
attributes of the séance's root: the script holds no text of its own."""

from __future__ import annotations

from pilotis.core.i18n import t

_SCRIPT_TEXTS = {
    "slide": ("seance_slide_announce", {"number": "{number}", "total": "{total}", "title": "{title}"}),
    "pause": ("seance_pause", {}),
    "resume": ("seance_resume", {}),
    "paused": ("seance_rotation_paused", {}),
    "resumed": ("seance_rotation_resumed", {}),
    "hidden-one": ("seance_hidden_one", {"count": "{count}"}),
    "hidden-many": ("seance_hidden_many", {"count": "{count}"}),
    "see-card": ("seance_see_card", {}),
    "see-dashboard": ("seance_see_dashboard", {}),
    "late": ("seance_late", {}),
    "late-since": ("seance_late_since", {"time": "{time}"}),
}


def script_texts(lang: str) -> dict[str, str]:
    """``data-text-<name>`` attributes: each text of seance.js in ``lang``, ``{placeholders}`` kept."""
    return {f"data-text-{name}": t(key, lang, **values) for name, (key, values) in _SCRIPT_TEXTS.items()}
