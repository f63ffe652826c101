"""Séances (presentation mode): the YAML format of `config/seances/<id>.yaml` and its runtime form.

A séance is an ordered list of *items* — a dashboard, or some of its widgets, with filters preset —
shown full screen in a commission meeting or on a wall screen, rotating from slide to slide and
refreshing live. Every dashboard also has an implicit one-item séance (``/seance/d/<dashboard>``).

An item becomes one or several *slides*: its widgets are packed in rows of the dashboard's
12-column grid, one row per slide (the KPI row, then the chart row…), so that each slide stays
readable from the back of the room. Tables (`table`) and texts (`markdown`) are only shown when
the item lists them in ``widgets``.

Component ids of a séance page are ``_seance-<key>--<name>``: a dashboard id never starts with
``_``, so :meth:`pilotis.core.registry.Registry.seance_of` maps them to the séance unambiguously, and
access control allows them only to someone who may open every dashboard of the séance
(:func:`pilotis.core.access.can_view_seance`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from pilotis.core.errors import HintedValueError
from pilotis.core.schema import Duration, Strict, parse_duration
from pilotis.core.widgets import seance_default

if TYPE_CHECKING:
    from pilotis.core.registry import Dashboard, Registry

SEANCE_ID = r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$"
"""A séance id: a slug without `--` (the separator of component ids)."""
PREFIX = "_seance-"
"""Start of every component id of a séance page."""
IMPLICIT = "@"
"""Key prefix of the implicit séance of a dashboard (``@rsa``): never a declared séance id."""
DEFAULT_REFRESH = 300
"""Seconds between two live refreshes when neither the séance nor its dashboards say."""
MIN_REFRESH = 10
"""Shortest refresh period accepted (YAML or ``?rafraichissement=``)."""
DEFAULT_DURATION = 30
"""Seconds each slide stays on screen when the item does not say."""
_TERRITORY = re.compile(r"^(departement|epci|commune):[0-9A-Za-z]+$")


# --------------------------------------------------------------------------- YAML


class SeanceFilters(Strict):
    """Filters applied to the widgets of an item (the dashboard's own filters, preset)."""

    territory: str | None = None
    """Territoire : `departement:53`, `epci:200083392`, `commune:53130`, ou le nom exact d'un EPCI ou d'une commune
    (`Laval Agglomération`). Absent : tout le département."""
    period: Literal["latest", "all"] | int | None = None
    """Année montrée : une année (`2024`), `latest` (la plus récente) ou `all` (toute la période). Absent : le défaut
    du tableau de bord."""

    @field_validator("territory")
    @classmethod
    def _territory(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise HintedValueError("territoire vide", "écrivez `epci:200083392` ou le nom d'un EPCI")
        return value.strip() if value else value

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | int | None) -> str | int | None:
        if isinstance(value, int) and not 1900 <= value <= 2200:
            raise HintedValueError(f"année `{value}` invalide", "écrivez une année sur 4 chiffres, `latest` ou `all`")
        return value


class SeanceItem(Strict):
    """One point of the agenda: a dashboard (or some of its widgets) with its filters."""

    dashboard: str
    """Identifiant du tableau de bord montré (`rsa`)."""
    widgets: list[str] | None = Field(default=None, min_length=1)
    """Widgets montrés, dans cet ordre (identifiants du tableau de bord). Absent : tous, sauf les tableaux (`table`) et
    les textes (`markdown`)."""
    title: str | None = None
    """Titre affiché pendant ce point (« RSA — Laval Agglomération »). Absent : le titre du tableau de bord."""
    filters: SeanceFilters = Field(default_factory=SeanceFilters)
    """Filtres préréglés : `territory` et `period`."""
    duration: Duration = DEFAULT_DURATION
    """Durée d'affichage de chaque diapositive de ce point (`45s`, `2min`) avant de passer à la suivante."""

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: str | int) -> int:
        seconds = parse_duration(value)
        if seconds < 1:
            raise HintedValueError("durée trop courte", "au moins `1s` (par exemple `30s`)")
        return seconds


class SeanceSpec(Strict):
    """A séance: one YAML file in `config/seances/`, shown at `/seance/<id>`."""

    id: str = Field(pattern=SEANCE_ID)
    """Identifiant unique, aussi l'adresse : `/seance/<id>` (lettres minuscules, chiffres, `_`, `-` simple)."""
    title: str
    """Titre de la séance (« Commission RSA du 12 décembre »), en tête de chaque diapositive."""
    description: str = ""
    """Ordre du jour ou remarque (non projeté)."""
    refresh: Duration | None = None
    """Période d'actualisation des données à l'écran (`1min`, `5min` ; au moins `10s`). Absent : la plus courte des
    tableaux de bord, sinon 5 minutes."""
    items: list[SeanceItem] = Field(min_length=1)
    """Points de l'ordre du jour, dans l'ordre de passage ; la rotation reprend au premier après le dernier."""

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if value == "d":
            raise HintedValueError("identifiant `d` réservé (`/seance/d/<tableau>`)", "choisissez un autre `id`")
        return value

    @field_validator("refresh", mode="before")
    @classmethod
    def _refresh(cls, value: str | int | None) -> int | None:
        if value is None:
            return None
        seconds = parse_duration(value)
        if seconds < MIN_REFRESH:
            raise HintedValueError("actualisation trop fréquente", f"au moins `{MIN_REFRESH}s`")
        return seconds


# --------------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class Slot:
    """One widget of one item on a séance page; ``index`` numbers it across the séance."""

    index: int
    item: int
    dashboard: str
    widget: str
    width: int


@dataclass(frozen=True)
class Slide:
    """What is on screen at once: a row of widgets of one item."""

    index: int
    item: int
    slots: tuple[Slot, ...]
    duration: int


@dataclass(frozen=True)
class Seance:
    """A loaded séance (declared, or the implicit one of a dashboard) and its slides."""

    key: str
    """``<id>`` for a declared séance, ``@<dashboard>`` for the implicit one of a dashboard."""
    spec: SeanceSpec
    slides: tuple[Slide, ...]
    refresh: int
    """Seconds between live refreshes (before any ``?rafraichissement=`` override)."""

    @property
    def implicit(self) -> bool:
        """True for the one-item séance of a dashboard (``/seance/d/<id>``)."""
        return self.key.startswith(IMPLICIT)

    @property
    def url(self) -> str:
        """The page of the live séance."""
        return f"/seance/d/{self.key[1:]}" if self.implicit else f"/seance/{self.key}"

    @property
    def dashboards(self) -> tuple[str, ...]:
        """Ids of the dashboards shown, in order, once each (access needs all of them)."""
        return tuple(dict.fromkeys(item.dashboard for item in self.spec.items))

    @property
    def slots(self) -> tuple[Slot, ...]:
        """Every slot of every slide, in order."""
        return tuple(slot for slide in self.slides for slot in slide.slots)

    def dom_id(self, name: str) -> str:
        """The component id of ``name`` on this séance's page."""
        return f"{PREFIX}{self.key}--{name}"


def pack(widths: list[int]) -> list[list[int]]:
    """Indexes of ``widths`` grouped in rows of at most 12 columns, in order."""
    rows: list[list[int]] = []
    used = 13
    for index, width in enumerate(widths):
        if used + width > 12:
            rows.append([])
            used = 0
        rows[-1].append(index)
        used += width
    return rows


def build(key: str, spec: SeanceSpec, registry: Registry) -> Seance:
    """The runtime séance: items expanded into slides (ids must have been checked)."""
    slides: list[Slide] = []
    count = 0
    for item_index, item in enumerate(spec.items):
        dashboard = registry.dashboards[item.dashboard]
        if item.widgets:
            widgets = [dashboard.widget(w) for w in item.widgets]
        else:
            # types shown only when an item lists them declare it (``WidgetType.projected``)
            widgets = [w for w in dashboard.widgets if seance_default(w.type)]
            widgets = widgets or list(dashboard.widgets)
        for row in pack([w.width for w in widgets]):
            slots = []
            for position in row:
                widget = widgets[position]
                slots.append(Slot(count, item_index, dashboard.id, widget.id, widget.width))
                count += 1
            slides.append(Slide(len(slides), item_index, tuple(slots), item.duration))
    refresh = spec.refresh
    if refresh is None:
        periods = [registry.dashboards[d].spec.refresh for d in dict.fromkeys(i.dashboard for i in spec.items)]
        known = [p for p in periods if p]
        refresh = max(MIN_REFRESH, min(known)) if known else DEFAULT_REFRESH
    return Seance(key=key, spec=spec, slides=tuple(slides), refresh=refresh)


def implicit(dashboard: Dashboard, registry: Registry) -> Seance:
    """The one-item séance of ``dashboard`` (``/seance/d/<id>``), default filters."""
    spec = SeanceSpec(
        id=dashboard.id if re.match(SEANCE_ID, dashboard.id) else "tableau",
        title=dashboard.spec.title,
        items=[SeanceItem(dashboard=dashboard.id)],
    )
    return build(IMPLICIT + dashboard.id, spec, registry)


REFRESH_STEPS: tuple[int, ...] = tuple(
    parse_duration(d)
    for d in "10s 15s 20s 30s 45s 1min 90s 2min 3min 5min 10min 15min 20min 30min 1h 2h 3h 6h 12h 24h".split()
)
"""Refresh periods a séance address may choose (``?rafraichissement=``), in seconds. The period is
part of the séance's cache key and of the query cache's time bucket: any other value would let
each crafted address force a full render that no other screen shares."""


def parse_refresh(text: str | None, default: int) -> int:
    """A refresh period chosen when starting (``?rafraichissement=30s``): rounded down to one of
    :data:`REFRESH_STEPS` (the screen is never refreshed less often than asked), never below 10 s
    nor above a day; unreadable: ``default`` (the séance's own period)."""
    if not text:
        return default
    try:
        seconds = parse_duration(text.strip())
    except ValueError:
        return default
    return max(step for step in REFRESH_STEPS if step <= max(MIN_REFRESH, seconds))


def territory_format_ok(value: str) -> bool:
    """True for ``level:code`` values (names are resolved by the loader)."""
    return bool(_TERRITORY.match(value))
