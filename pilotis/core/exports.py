"""Widget exports without Flask: which widgets can be downloaded, what a download address may
say, and what the file says about its data (the header block).

The figures themselves are ``WIDGET_TYPES[widget.type].data(widget, scope)`` with the scope the
page's callback uses (``Portal.render_context``: the territory clamped to the user's restriction,
their row rules in every query), so a file holds exactly what the widget shows.
:mod:`pilotis.core.export_formats` writes them; :mod:`pilotis.web.exports` serves them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pandas as pd

from pilotis.core.export_formats import PERCENT, Table, Variant
from pilotis.core.i18n import t
from pilotis.core.registry import Dashboard, Registry
from pilotis.core.schema import DatasetBase, DataWidgetBase, WidgetBase
from pilotis.core.scope import Scope
from pilotis.core.secrecy import as_text
from pilotis.core.widgets import WIDGET_TYPES, WidgetType

PARIS = ZoneInfo("Europe/Paris")
FORMATS = ("csv", "xlsx")
"""File formats, as the last part of the address (``/exports/rsa/communes.csv``)."""
VARIANTS: tuple[Variant, ...] = ("fr", "outils")
"""CSV variants (``?variante=outils``; French by default)."""
MAX_CONTROL_LENGTH = 200
"""Longest value of a widget's own control accepted in an address (a territory code is ~15)."""


class BadExportRequest(ValueError):
    """A download address with a value the page could not have sent (HTTP 400, French message)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


@dataclass(frozen=True)
class ExportRequest:
    """What a download address asks for, checked (:func:`read_request`)."""

    territory: str | None = None
    period: str | None = None
    variant: Variant = "fr"
    controls: dict[str, str] = field(default_factory=dict)


def exportable(widget: WidgetBase) -> bool:
    """True when ``widget`` shows data it can hand over: its type computes ``data()`` (tables,
    charts, maps, KPIs, custom widgets returning a table) and it is not static (a text)."""
    kind = WIDGET_TYPES.get(widget.type)
    if kind is None or kind.is_static(widget):
        return False
    return getattr(kind.data, "__func__", None) is not getattr(WidgetType.data, "__func__", None)


def read_request(
    args: Mapping[str, str],
    fmt: str,
    *,
    known_territory: Callable[[str], bool],
    years: Sequence[int],
    controls: Sequence[str],
    lang: str = "fr",
) -> ExportRequest:
    """The filters of a download address (``territoire``, ``annee``, ``variante`` and the widget's
    own controls by name), or :class:`BadExportRequest` naming the parameter in French.

    ``years``: those the page's period filter offers (empty: no period filter; ``all`` is always
    accepted, as the page's « toute la période »). A territory outside the user's restriction is
    not refused here: the scope clamps it as it does on the page.
    """
    territory = args.get("territoire") or None
    if territory is not None and not known_territory(territory):
        raise BadExportRequest("territoire", t("export_bad_territory", lang, value=territory[:60]))
    period = args.get("annee") or None
    if period is not None and period != "all" and not (period.isdigit() and int(period) in years):
        listed = ", ".join(str(y) for y in years) or "—"
        raise BadExportRequest("annee", t("export_bad_year", lang, value=period[:60], years=listed))
    variant = args.get("variante") or "fr"
    if variant not in VARIANTS or (fmt != "csv" and "variante" in args):
        raise BadExportRequest("variante", t("export_bad_variant", lang, value=variant[:60]))
    values: dict[str, str] = {}
    for name in controls:
        value = args.get(name)
        if value is None:
            continue
        if len(value) > MAX_CONTROL_LENGTH:
            raise BadExportRequest(name, t("export_bad_control", lang, name=name))
        values[name] = value
    return ExportRequest(territory, period, variant, values)


# --------------------------------------------------------------------------- header block


def widget_datasets(registry: Registry, widget: WidgetBase) -> dict[str, DatasetBase]:
    """The datasets a widget reads, by id: its own, and those of the indicators it shows (a
    formula's parts included), each once."""
    ids: list[str] = [widget.dataset] if isinstance(widget, DataWidgetBase) else []
    for indicator_id in WIDGET_TYPES[widget.type].indicators_used(widget):
        indicator = registry.indicators.get(indicator_id)
        for part in sorted(indicator.requires) if indicator else ():
            spec = registry.indicators[part].spec if part in registry.indicators else None
            if spec is not None and spec.dataset:
                ids.append(spec.dataset)
    return {i: registry.datasets[i].config for i in dict.fromkeys(ids) if i in registry.datasets}


def _territory(widget: WidgetBase, scope: Scope, datasets: Sequence[str], lang: str) -> str:
    """The territory chosen; for a widget that ignores it, every territory — within the user's
    restriction when their row rules cut the widget's data (not a public statistic they see whole)."""
    if getattr(widget, "territory", "filter") == "filter":
        return scope.territory_name()
    text = t("export_all_territories", lang)
    if scope.scope is not None and any(scope.row_filters(d) for d in datasets):
        return t("export_scoped", lang, territory=text, scope=scope.territories.name(scope.scope))
    return text


def _period(widget: WidgetBase, scope: Scope, lang: str) -> str:
    follows = getattr(widget, "period", "filter")
    if follows == "all" or (follows == "filter" and scope.year is None and scope.all_years):
        return t("export_whole_period", lang)
    if follows == "filter" and scope.year is not None:
        return str(scope.year)
    return t("export_latest", lang)


def about(
    registry: Registry, dashboard: Dashboard, widget: WidgetBase, scope: Scope, now: dt.datetime, lang: str = "fr"
) -> list[tuple[str, str]]:
    """The header block of a file, always the same eight lines in the same order: title,
    territory, period, source, producer, licence, simulated or not, moment of extraction
    (Paris time)."""
    found = widget_datasets(registry, widget)
    datasets = list(found.values())

    def joined(values: list[str]) -> str:
        return " / ".join(dict.fromkeys(v for v in values if v)) or t("export_unknown", lang)

    moment = now.astimezone(PARIS)
    day = moment.strftime("%d/%m/%Y") if lang == "fr" else moment.strftime("%Y-%m-%d")
    simulated = any(d.simulated for d in datasets)
    return [
        (t("export_title", lang), f"{dashboard.spec.title} — {widget.title or widget.id}"),
        (t("export_territory", lang), _territory(widget, scope, list(found), lang)),
        (t("export_period", lang), _period(widget, scope, lang)),
        (t("export_source", lang), joined([d.title for d in datasets])),
        (t("export_producer", lang), joined([d.producer for d in datasets])),
        (t("export_licence", lang), joined([d.licence for d in datasets])),
        (t("export_simulated", lang), t("export_yes_simulated" if simulated else "export_no", lang)),
        (t("export_extracted", lang), t("export_at", lang, day=day, time=moment.strftime("%H:%M"))),
    ]


def table(frame: pd.DataFrame, header: Sequence[tuple[str, str]], lang: str = "fr") -> Table:
    """What the serialisers write: the frame's columns, their labels with their unit
    (``frame.attrs['labels']`` and ``['units']``, see :func:`pilotis.core.widgets.labelled`);
    cells masked by statistical secrecy written « < 5 », with a line saying so in the header block."""
    labels: dict[str, str] = frame.attrs.get("labels", {})
    units: dict[str, str] = frame.attrs.get("units", {})
    frame, secret = as_text(frame)
    if secret:
        header = [*header, (t("export_secret", lang), t("secret_note", lang, label=secret))]
    columns = [str(c) for c in frame.columns]
    headers = []
    for column in columns:
        label = labels.get(column, column)
        unit = units.get(column, "")
        if unit and f"({unit})" not in label:
            label = f"{label} ({unit})"
        headers.append(label)
    frame = frame.set_axis(columns, axis=1)
    return Table(about=header, columns=columns, headers=headers, units=[units.get(c, "") for c in columns], frame=frame)


def file_name(dashboard: Dashboard, widget: WidgetBase, request: ExportRequest, fmt: str) -> str:
    """``rsa-communes-epci-200083392-2020.csv``: the dashboard, the widget and the filters."""
    parts = [dashboard.id, widget.id]
    if request.territory:
        parts.append(request.territory.replace(":", "-"))
    if request.period:
        parts.append(request.period)
    if fmt == "csv" and request.variant != "fr":
        parts.append(request.variant)
    safe = "-".join(parts)
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in safe) + f".{fmt}"


__all__ = [
    "FORMATS",
    "PERCENT",
    "VARIANTS",
    "BadExportRequest",
    "ExportRequest",
    "about",
    "exportable",
    "file_name",
    "read_request",
    "table",
    "widget_datasets",
]
