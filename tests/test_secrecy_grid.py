"""The masking of a grid (:func:`pilotis.core.secrecy.mask`) gives, cell for cell, what its first
version gave: that version (pandas ``groupby`` and a Python pass over every group, kept below as
the reference) against the one on group numbers, on random grids (Hypothesis): communes with
their EPCI, months of a flow or a stock, another dimension, raw rows, one or two protected
counts, missing values, zeros, fractional counts, every threshold and ``zeros`` setting.

Example counts are bounded so that the file runs in a few seconds; the Hypothesis database is
disabled (no files written).
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotis.core import secrecy, secrecy_secondary
from pilotis.core.measures import parse_measure
from pilotis.core.query import PERIOD, Filter, Query
from pilotis.core.schema_catalogue import SecrecyRule

SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
MONTHS = [dt.date(2019, 11, 1), dt.date(2019, 12, 1), dt.date(2020, 1, 1), dt.date(2020, 2, 1), None]


# --------------------------------------------------------------------------- the reference
def reference_mask(frame: pd.DataFrame, plan: secrecy.Plan, rule: SecrecyRule) -> pd.DataFrame:
    """The first version of :func:`secrecy.mask` (pandas groupby, every group in Python), with a
    missing code read as ``""``."""
    attrs = dict(frame.attrs)
    frame = frame.reset_index(drop=True)
    counts = frame[list(plan.counts)].apply(pd.to_numeric, errors="coerce")
    values = counts.min(axis=1).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        masked = (values < rule.threshold) & ((values > 0) | rule.zeros)
    masked &= ~np.isnan(values)
    if masked.any():
        _reference_secondary(frame, values, masked, plan, rule)
    for alias in plan.protected:
        frame[alias] = pd.to_numeric(frame[alias], errors="coerce").astype(float).where(~masked)
    frame[secrecy.SECRET] = masked
    frame.attrs.update(attrs)
    return frame


def _reference_secondary(
    frame: pd.DataFrame, values: np.ndarray, masked: np.ndarray, plan: secrecy.Plan, rule: SecrecyRule
) -> None:
    dims = [d for d in plan.asked.group_by if d not in plan.parents]
    partitions: list[tuple[str | None, list[pd.Series]]] = [(None, [])] if plan.query.raw_columns else []
    for dim in dims:
        if dim == PERIOD and plan.stock:
            continue
        others = [frame[d] for d in plan.asked.group_by if d != dim]
        if dim == PERIOD:
            others.append(pd.to_datetime(frame[PERIOD], errors="coerce").dt.year.rename("__secret_year"))
        partitions.append((dim, others))
    groups = []
    for part, keys in partitions:
        codes = (  # a missing code as "" (it was NaN, a float: a tie with a text then failed)
            frame[part].astype(str).to_numpy(dtype=object, na_value="")
            if part is not None
            else np.arange(len(frame)).astype(str)
        )
        members = (
            list(frame.groupby(keys, dropna=False, sort=False).indices.values()) if keys else [np.arange(len(frame))]
        )
        groups.append((codes, members))
    for _ in range(50):
        changed = False
        for codes, members in groups:
            for index in members:
                if masked[index].any():
                    changed |= secrecy_secondary.protect(codes, index, values, masked, rule)
        if not changed:
            return


# --------------------------------------------------------------------------- random grids
@st.composite
def grids(draw: Any) -> tuple[pd.DataFrame, secrecy.Plan, SecrecyRule]:
    """A query under a rule, its plan, and a random answer to the plan's asked query."""
    two = draw(st.booleans())
    rule = SecrecyRule(
        columns=["foyers", "autres"] if two else ["foyers"],
        threshold=draw(st.integers(2, 12)),
        zeros=draw(st.booleans()),
    )
    config = SimpleNamespace(
        territory=SimpleNamespace(commune="commune", epci="epci"),
        period=SimpleNamespace(kind=draw(st.sampled_from(["stock", "flow"]))),
    )
    measures = {"n": "sum(foyers)", "h": "sum(habitants)"}
    if two:
        measures["taux"] = "sum(foyers) * 100 / sum(autres)"
    if draw(st.booleans()):
        query = Query("d", (), raw_columns=("commune", "epci", "foyers"), limit=1000)
    else:
        group = draw(st.lists(st.sampled_from(["commune", PERIOD, "autre", "epci"]), unique=True, max_size=3))
        filters = (Filter("commune", "=", "c1"),) if draw(st.booleans()) else ()
        query = Query(
            "d",
            tuple((alias, parse_measure(text)) for alias, text in measures.items()),
            group_by=tuple(group),
            filters=filters,
            period_column="mois",
            period_grain="month",
        )
    plan = secrecy.plan(query, config, rule)
    assert plan is not None
    size = draw(st.integers(1, 60))
    fractional = draw(st.booleans())
    count = st.one_of(
        st.integers(0, 15).map(float),
        st.just(float("nan")),
        st.floats(0, 15, allow_nan=False).map(lambda v: round(v, 1)) if fractional else st.just(3.0),
    )
    columns: dict[str, list[Any]] = {}
    names = plan.asked.raw_columns or (*plan.asked.group_by, *(alias for alias, _ in plan.asked.measures))
    pools: dict[str, list[Any]] = {
        "commune": ["c1", "c2", "c3", "c4", "c5", "c6", None],
        "epci": ["E1", "E2", "E3", None],
        "autre": ["x", "y"],
        PERIOD: MONTHS,
    }
    for name in names:
        pool = pools.get(name)
        strategy = st.sampled_from(pool) if pool else count
        columns[name] = draw(st.lists(strategy, min_size=size, max_size=size))
    frame = pd.DataFrame(columns)
    if PERIOD in frame.columns:
        frame[PERIOD] = pd.to_datetime(frame[PERIOD])
    frame.attrs["refreshed_at"] = 1.0
    return frame, plan, rule


@SETTINGS
@given(grids())
def test_masking_a_grid_gives_what_the_first_version_gave(grid: tuple[pd.DataFrame, secrecy.Plan, SecrecyRule]) -> None:
    frame, plan, rule = grid
    expected = reference_mask(frame.copy(), plan, rule)
    got = secrecy.mask(frame.copy(), plan, rule)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs


def test_a_grid_with_fractional_or_huge_counts_is_masked_as_before() -> None:
    """Sums of counts that depend on their order (fractions, beyond 2**53): each group is then
    checked in Python, as the first version did."""
    rule = SecrecyRule(columns=["foyers"], threshold=5)
    config = SimpleNamespace(territory=SimpleNamespace(commune="commune", epci="epci"), period=None)
    query = Query("d", (("n", parse_measure("sum(foyers)")),), group_by=("commune",))
    plan = secrecy.plan(query, config, rule)
    assert plan is not None
    for counts in ([0.1, 4.45, 0.45, 20.0, 2.0**60], [2.5, 2.5, 30.0, 2.0**53, 1.0]):
        frame = pd.DataFrame(
            {"commune": [f"c{i}" for i in range(5)], "epci": ["E1"] * 5, "n": counts, "__secret_n0": counts}
        )
        pd.testing.assert_frame_equal(
            secrecy.mask(frame.copy(), plan, rule), reference_mask(frame.copy(), plan, rule), check_exact=True
        )


def test_a_cell_without_a_commune_code_ties_with_another() -> None:
    """A row without a commune code (unknown commune) and another one with the same count: the
    tie is broken by the codes, the missing one read as ``""`` (it was compared as NaN with a text,
    and the masking failed)."""
    rule = SecrecyRule(columns=["foyers"], threshold=5)
    config = SimpleNamespace(territory=SimpleNamespace(commune="commune", epci="epci"), period=None)
    query = Query("d", (("n", parse_measure("sum(foyers)")),), group_by=("commune",))
    plan = secrecy.plan(query, config, rule)
    assert plan is not None
    counts = [2.0, 9.0, 9.0, 40.0]
    frame = pd.DataFrame({"commune": ["c1", "c2", None, "c4"], "epci": ["E1"] * 4, "n": counts, "__secret_n0": counts})
    masked = secrecy.mask(frame, plan, rule)
    assert list(masked[secrecy.SECRET]) == [True, False, True, False]  # 2, then the smallest: 9 (no code first)
