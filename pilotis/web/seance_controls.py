"""A séance page's frame: its header (logo, title, status) and its footer of controls (previous,
pause, next, full screen, freeze, leave), shared by the live and the snapshot pages
(:mod:`pilotis.web.seance_pages`). What the request says (principal, language) is passed in.
"""

from __future__ import annotations

from typing import Any

from dash import html

from pilotis.core.access import Principal
from pilotis.core.i18n import t
from pilotis.core.seances import Seance
from pilotis.ui.components import aria, data_attributes
from pilotis.ui.portal import Portal


def exit_url_of(seance: Seance, principal: Principal | None, portal: Portal) -> str:
    if principal is not None and principal.seance is not None:
        return ""  # a wall screen has nowhere else to go
    if seance.implicit:
        dashboard = portal.registry.dashboards.get(seance.key[1:])
        return dashboard.spec.url if dashboard else "/"
    return "/"


def control_button(icon: str, label: str, action: str, text: str = "", **extra: Any) -> html.Button:
    children: list[Any] = [html.I(className=f"bi bi-{icon}", **aria(hidden="true"))]
    if text:
        children.append(html.Span(text, className="ms-2"))
    return html.Button(
        children,
        type="button",
        className="pilotis-seance-button",
        title=label,
        **aria(label=label),
        **data_attributes(action=action),
        **extra,
    )


def yaml_lang(lang: str) -> str | None:
    """``lang="fr"`` on a title written in YAML (French) inside a page shown in another language."""
    return "fr" if lang != "fr" else None


def seance_head(portal: Portal, title: str, status: Any, lang: str) -> html.Header:
    collectivite = portal.registry.portal.collectivite
    brand: list[Any] = []
    if collectivite.logo:
        brand.append(
            html.Img(
                src=f"/assets/{collectivite.logo}",
                alt=collectivite.nom,
                className="pilotis-seance-logo",
            )
        )
    else:
        brand.append(html.Span(collectivite.nom, className="pilotis-seance-collectivite"))
    return html.Header(
        [
            html.Div(brand, className="pilotis-seance-brand"),
            html.H1(title, className="pilotis-seance-title", lang=yaml_lang(lang)),
            status,
        ],
        className="pilotis-seance-head",
    )


def seance_foot(
    seance: Seance, slides: int, lang: str, *, frozen: bool, exit_url: str, can_freeze: bool
) -> html.Footer:
    controls = [
        control_button("chevron-left", t("seance_previous", lang), "prev"),
        control_button("pause-fill", t("seance_pause", lang), "pause"),
        control_button("chevron-right", t("seance_next", lang), "next"),
        control_button("arrows-fullscreen", t("seance_fullscreen", lang), "fullscreen"),
    ]
    if can_freeze:
        controls.append(
            html.Button(
                [
                    html.I(className="bi bi-snow", **aria(hidden="true")),
                    html.Span(t("seance_freeze", lang), className="ms-2"),
                ],
                id=seance.dom_id("freeze"),
                type="button",
                className="pilotis-seance-button",
                title=t("seance_freeze_title", lang),
            )
        )
    if exit_url:
        controls.append(
            control_button("box-arrow-left", t("seance_leave", lang), "leave", t("seance_leave_short", lang))
        )
    segments = [
        html.Div(html.Div(className="pilotis-seance-fill"), className="pilotis-seance-segment") for _ in range(slides)
    ]
    children: list[Any] = [
        html.Div(
            controls,
            className="pilotis-seance-controls",
            role="toolbar",
            **aria(label=t("seance_controls", lang)),
        ),
        html.Span(f"1 / {slides}", className="pilotis-seance-counter"),
        html.Span(t("seance_paused_badge", lang), className="pilotis-seance-paused", hidden=True),
    ]
    if can_freeze:
        children.append(html.Div(id=seance.dom_id("frozen"), className="pilotis-seance-frozen", role="status"))
    children.append(html.Div(segments, className="pilotis-seance-progress", **aria(hidden="true")))
    return html.Footer(children, className="pilotis-seance-foot" + (" is-snapshot" if frozen else ""))
