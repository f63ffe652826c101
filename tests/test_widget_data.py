"""The data a widget shows, computed without drawing it (``WidgetType.data``), and an indicator
computed from a :class:`~pilotis.core.scope.Scope` built without any dashboard.

1. For every widget of every shipped dashboard (globbed: a new dashboard is covered), for two
   filter combinations, ``data()`` on a bare Scope (no dashboard) returns the figures the
   rendered widget shows: the traces of its graph, the rows of its table, its KPI value.
2. Row rules apply to ``data()``: ``agent.laval`` gets Laval Agglomération's rows only.
3. An indicator's value and comparisons from a Scope made in ``pilotis.core`` alone equal an
   independent pandas computation on the files of ``data/``.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pilotis.accounts.users import DEMO_USERS
from pilotis.core.access import Principal
from pilotis.core.evaluator import Evaluator
from pilotis.core.i18n import t
from pilotis.core.schema import WidgetBase
from pilotis.core.scope import Scope
from pilotis.core.settings import ROOT
from pilotis.core.territory import Territory
from pilotis.core.widgets import WIDGET_TYPES, WidgetType, register_widget, seance_default, seance_graph
from pilotis.ui.seance_render import plain
from tests.helpers import find_class, find_figures, html_table_rows, texts

DATA = ROOT / "data"
LAVAL_EPCI = "200083392"
DASHBOARDS = sorted(p.stem for p in (ROOT / "dashboards").glob("*.yaml"))
COMBINATIONS = (("departement:53", None), (f"epci:{LAVAL_EPCI}", "all"))
"""Two filter combinations: the whole département at the default year; an EPCI, every year."""
COMPARED = {"t1": f"epci:{LAVAL_EPCI}", "t2": "commune:53062"}
"""The territories chosen in a `compare` widget."""


def demo(username: str) -> Principal:
    user = next(u for u in DEMO_USERS if u.username == username)
    return Principal(user.username, user.department, frozenset(user.roles), user.territory)


def bare(ctx: Any) -> Scope:
    """The rendering context's scope without its dashboard (what an export or the API holds)."""
    return Scope(**{f.name: getattr(ctx, f.name) for f in fields(Scope)})


def values(array: Any) -> list[float]:
    """A plotly array (list, or typed array ``{dtype, bdata}``) as floats, missing values left out."""
    if isinstance(array, dict) and "bdata" in array:
        array = np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    found = [float(v) for v in array if v is not None]
    return [v for v in found if not math.isnan(v)]


def number(text: str) -> float:
    """A French-formatted number (``1 937``, ``16,8``) as a float."""
    digits = re.sub(r"[\s\u202f\u00a0]", "", text).replace(",", ".")
    return float(re.match(r"-?\d+(\.\d+)?", digits).group(0))  # type: ignore[union-attr]


def rounded(items: list[float], digits: int = 4) -> list[float]:
    return sorted(round(v, digits) for v in items)


def shown_values(widget: Any, tree: Any) -> list[float]:
    """The values a rendered chart or map draws (a pie's values, bars' lengths, map colours)."""
    found: list[float] = []
    for figure in find_figures(tree):
        for trace in figure["data"]:
            if trace.get("type") == "pie":
                found += values(trace["values"])
            elif trace.get("type") == "choropleth":
                if trace.get("name") != "secret":  # areas masked by statistical secrecy: grey, no value
                    found += values(trace["z"])
            elif getattr(widget, "horizontal", False) or trace.get("orientation") == "h":
                found += values(trace["x"])
            else:
                found += values(trace["y"])
    return found


def check_widget(widget: Any, frame: pd.DataFrame, tree: Any) -> None:
    """``frame`` (``data()``) holds exactly the figures of ``tree`` (the rendered widget)."""
    kind = widget.type
    labels = frame.attrs.get("labels")
    assert labels is not None and set(labels) == set(frame.columns), widget.id
    if kind in ("markdown", "section"):
        assert frame.empty
        return
    if frame.empty and kind != "custom":
        assert "Aucune donnée" in " ".join(texts(tree)) or kind == "compare", widget.id
        return
    if kind in ("line", "bar", "stacked_bar", "area", "pie"):
        assert rounded(shown_values(widget, tree)) == rounded(values(frame["valeur"])), widget.id
    elif kind == "choropleth":
        assert rounded(shown_values(widget, tree)) == rounded(values(frame["valeur"].round(4))), widget.id
    elif kind == "points":
        figure = find_figures(tree)[0]
        labels_drawn = [t for trace in figure["data"][1:] for t in trace["text"]]
        assert sorted(map(str, labels_drawn)) == sorted(map(str, frame[widget.label])), widget.id
    elif kind == "table":
        rows = html_table_rows(tree)
        assert len(rows) == len(frame), widget.id
        for column in (c for c in frame.columns if c != "_secret"):  # the masked-row flag is not a column
            expected = [None if isinstance(v, float) and math.isnan(v) else v for v in frame[column]]
            assert [r[column] for r in rows] == pytest.approx(expected), (widget.id, column)
    elif kind == "kpi":
        value = frame.loc[frame["element"] == "valeur", "valeur"].iloc[0]
        shown = find_class(tree, "pilotis-kpi-value")
        if value is None or pd.isna(value):
            assert "–" in texts(shown)[0] or not number_in(texts(shown)[0]), widget.id
        else:
            text = texts(shown)[0]
            scale = {"Md": 1e9, "M": 1e6, "k": 1e3}
            unit = re.search(r"\d\s*(Md|M|k)\b", text.replace("\u202f", " ").replace("\u00a0", " "))
            multiplier = scale[unit.group(1)] if unit else 1.0
            expected = value * 100 if "%" in text else value
            assert number(text) * multiplier == pytest.approx(expected, rel=0.005, abs=0.051 * multiplier), widget.id
    elif kind == "compare":
        body = [r for r in find_class(tree, "pilotis-compare-table")]
        cells = texts(body)
        shown = [number(c) for c in cells if number_in(c) and "(" in c]  # « 1 234 (octobre 2020) »
        expected = [v for v in frame["valeur"] if v is not None and not pd.isna(v)]
        assert len(shown) == len(expected) == len(frame), widget.id
    elif kind == "custom":  # the table the function returns is the one offered under its graph
        shown = " ".join(texts(tree))  # the rows travel as JSON in the table's data-rows
        rows = html_table_rows(tree)
        if frame.empty:
            assert not rows, widget.id
        else:
            assert len(rows) == len(frame), widget.id
            first = frame.columns[0]
            assert all(str(v) in shown for v in frame[first]), widget.id
    else:  # a new widget type: add how to read what it shows here
        pytest.fail(f"type `{kind}` sans vérification de data()")


def number_in(text: str) -> bool:
    return bool(re.match(r"-?\d", re.sub(r"[\s\u202f\u00a0]", "", text)))


@pytest.mark.parametrize("dashboard_id", DASHBOARDS)
@pytest.mark.parametrize(("territory", "period"), COMBINATIONS)
def test_data_is_what_the_widget_shows(portal, dashboard_id: str, territory: str, period: str | None) -> None:  # type: ignore[no-untyped-def]
    dashboard = portal.registry.dashboards[dashboard_id]
    checked = 0
    for widget in dashboard.widgets:
        controls = COMPARED if widget.type == "compare" else None
        ctx = portal.render_context(dashboard, territory, period, principal=demo("president"), controls=controls)
        kind = WIDGET_TYPES[widget.type]
        frame = kind.data(widget, bare(ctx))
        tree = plain(kind.render(widget, ctx))
        check_widget(widget, frame, tree)
        checked += 1
    assert checked == len(dashboard.widgets) > 0


def test_row_rules_apply_to_data(portal) -> None:  # type: ignore[no-untyped-def]
    """agent.laval asks for the whole département: every frame holds Laval Agglomération only."""
    members = set(portal.territories.communes_of(LAVAL_EPCI))
    rsa = portal.registry.dashboards["rsa"]
    ctx = portal.render_context(rsa, "departement:53", "2019", principal=demo("agent.laval"))
    scope = bare(ctx)
    assert scope.territory == Territory("epci", LAVAL_EPCI)  # clamped to their territory
    table = WIDGET_TYPES["table"].data(rsa.widget("communes"), scope)
    assert set(table["code_insee"]) == members
    carte = WIDGET_TYPES["choropleth"].data(rsa.widget("carte"), scope)
    assert set(carte["code_insee"]) == members
    foyers = WIDGET_TYPES["kpi"].data(rsa.widget("foyers"), scope)
    frame = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    frame["date"] = pd.to_datetime(frame["date"])
    mine = frame[frame["code_insee"].isin(members) & (frame["date"].dt.year == 2019)]
    last = mine["date"].max()
    expected = mine.loc[mine["date"] == last, "foyers_allocataires"].sum()
    assert foyers.loc[foyers["element"] == "valeur", "valeur"].iloc[0] == expected
    # the same scope without a territory of their own reaches the whole département
    everyone = WIDGET_TYPES["table"].data(
        rsa.widget("communes"), bare(portal.render_context(rsa, None, "2019", principal=demo("president")))
    )
    assert set(everyone["code_insee"]) > members


# --------------------------------------------------------------------------- an indicator from a Scope


def test_indicator_from_a_scope_without_dashboard(portal) -> None:  # type: ignore[no-untyped-def]
    """What an alert will compute: `rsa.foyers_pour_1000` for Laval Agglomération in 2020, from a
    Scope made in pilotis.core (no dashboard, no Dash), against pandas on the data files."""
    scope = Scope.for_principal(
        portal.registry, portal.data, portal.territories, demo("president"), Territory("epci", LAVAL_EPCI), 2020
    )
    assert not hasattr(scope, "dashboard")
    result = Evaluator(scope, portal.registry.indicators["rsa.foyers_pour_1000"]).result(
        ["previous_year", "previous_period", "departement", "rank"], sparkline=6
    )
    communes = pd.read_csv(DATA / "communes.csv", dtype={"code_insee": str, "epci_siren": str})
    rsa = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"])
    population = communes.set_index("code_insee")["population"]

    def rate(rows: pd.DataFrame) -> float:
        return float(rows["foyers_allocataires"].sum() / population[rows["code_insee"].unique()].sum() * 1000)

    laval = rsa[rsa["epci_siren"] == LAVAL_EPCI]
    last = laval.loc[laval["date"].dt.year == 2020, "date"].max()
    assert result.end == last.date()
    assert result.value == pytest.approx(rate(laval[laval["date"] == last]))
    found = {c.kind: c for c in result.comparisons}
    year_before = last - pd.DateOffset(years=1)
    assert found["previous_year"].reference == pytest.approx(rate(laval[laval["date"] == year_before]))
    month_before = last - pd.DateOffset(months=1)
    assert found["previous_period"].reference == pytest.approx(rate(laval[laval["date"] == month_before]))
    month = rsa[rsa["date"] == last]
    assert found["departement"].reference == pytest.approx(rate(month))
    epci_rates = {code: rate(rows) for code, rows in month.groupby("epci_siren")}
    ranks = pd.Series(epci_rates).rank(ascending=False, method="min")
    assert (found["rank"].rank, found["rank"].count) == (int(ranks[LAVAL_EPCI]), len(epci_rates))
    expected_line = [rate(laval[laval["date"] == d]) for d in sorted(laval["date"].unique()) if d <= last][-6:]
    assert [v for _, v in result.sparkline] == pytest.approx(expected_line)


def test_scope_without_year_reads_the_latest_period(portal) -> None:  # type: ignore[no-untyped-def]
    """A bare scope without a year: the latest period of the data (no page says « all years »)."""
    scope = Scope.for_principal(
        portal.registry, portal.data, portal.territories, demo("president"), Territory("departement", "53"), None
    )
    result = Evaluator(scope, portal.registry.indicators["rsa.foyers_allocataires"]).result([])
    rsa = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"])
    last = rsa["date"].max()
    assert result.end == last.date()
    assert result.value == rsa.loc[rsa["date"] == last, "foyers_allocataires"].sum()


def test_restricted_scope_withholds_positions(portal) -> None:  # type: ignore[no-untyped-def]
    """agent.laval's scope is clamped to Laval Agglomération and withholds territorial comparisons."""
    scope = Scope.for_principal(
        portal.registry,
        portal.data,
        portal.territories,
        demo("agent.laval"),
        Territory("departement", "53"),
        2020,
    )
    assert scope.territory == Territory("epci", LAVAL_EPCI)
    result = Evaluator(scope, portal.registry.indicators["rsa.foyers_allocataires"]).result(["departement", "rank"])
    assert result.positions_withheld and not result.comparisons
    rsa = pd.read_parquet(DATA / "rsa_communes_mensuel.parquet")
    rsa["date"] = pd.to_datetime(rsa["date"])
    laval = rsa[(rsa["epci_siren"] == LAVAL_EPCI) & (rsa["date"].dt.year == 2020)]
    assert result.value == laval.loc[laval["date"] == laval["date"].max(), "foyers_allocataires"].sum()


# --------------------------------------------------------------------------- what a type declares


def test_widget_type_declares_its_texts_and_seance_behaviour() -> None:
    """A type's texts reach i18n when it registers (a clash is refused at import), and séances ask
    the type whether to show it by default and whether it is a graph (no list of type names)."""
    assert t("compare_need_two", "en") == "Choose at least two different territories."  # layouts/compare.py

    class Clash(WidgetType):
        type_names = ("clash_for_test",)
        Config = WidgetBase
        texts = {"no_data": {"fr": "Autre chose", "en": "Something else"}}

    with pytest.raises(ValueError, match="no_data"):
        register_widget(Clash)
    assert "clash_for_test" not in WIDGET_TYPES
    assert (seance_default("table"), seance_default("markdown"), seance_default("kpi")) == (False, False, True)
    assert (seance_graph("line"), seance_graph("choropleth"), seance_graph("kpi"), seance_graph("custom")) == (
        True,
        True,
        False,
        False,
    )
