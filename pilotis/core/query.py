"""What a widget asks for, as a small value object, compiled to SQL for the source's dialect.

The engine never loads a dataset into pandas to aggregate it: filters, row rules, grouping
and measures all go into one ``SELECT`` that runs where the data is (DuckDB for files, the
database itself for SQL sources). Only the aggregated result comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from pilotis.core.measures import Node, to_sql

FilterValue = str | int | float | bool | dt.date | tuple[str | int | float | dt.date, ...]
OPERATORS = ("=", "in", ">=", "<", "<=", ">")


@dataclass(frozen=True)
class Filter:
    """One condition ``column op value`` applied before aggregation."""

    column: str
    op: str
    value: FilterValue

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"opérateur inconnu {self.op}")


@dataclass(frozen=True)
class Query:
    """An aggregate query on one dataset. Hashable: it is part of the cache key."""

    dataset: str
    measures: tuple[tuple[str, Node], ...]
    group_by: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    period_column: str | None = None
    period_grain: str | None = None
    native_grain: str | None = None
    order_by: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None
    raw_columns: tuple[str, ...] = field(default=())
    offset: int | None = None
    """Rows skipped before ``limit`` (pages of the JSON API), in the order of ``order_by``."""
    unmasked: bool = False
    """The asker may see exact small counts (a role exempted by the dataset's secrecy rule,
    :mod:`pilotis.core.secrecy`). False by default: every query on a dataset under statistical
    secrecy is masked unless its builder (``Scope``) said otherwise. Part of the query, hence of
    the cache key: a masked result and an exact one never share a cache entry."""

    def with_filters(self, extra: Sequence[Filter]) -> Query:
        """The same query with more conditions."""
        return Query(
            dataset=self.dataset,
            measures=self.measures,
            group_by=self.group_by,
            filters=self.filters + tuple(extra),
            period_column=self.period_column,
            period_grain=self.period_grain,
            native_grain=self.native_grain,
            order_by=self.order_by,
            limit=self.limit,
            raw_columns=self.raw_columns,
            offset=self.offset,
            unmasked=self.unmasked,
        )


PERIOD = "periode"
"""Name of the output column holding the period when a query groups by period."""


def _period_expr(column: sa.ColumnClause, grain: str, dialect: str) -> sa.ColumnElement:
    if dialect == "sqlite":
        fmt = {"year": "%Y-01-01", "month": "%Y-%m-01", "day": "%Y-%m-%d"}.get(grain)
        if fmt is None:  # quarter: first month of the quarter
            month = sa.cast(sa.func.strftime("%m", column), sa.Integer)
            first = ((month - 1) // 3) * 3 + 1  # `//`: SQLAlchemy 2 makes `/` a true division
            return sa.func.printf("%s-%02d-01", sa.func.strftime("%Y", column), first)
        return sa.func.strftime(fmt, column)
    if grain not in ("day", "month", "quarter", "year"):
        raise ValueError(f"granularité inconnue {grain}")
    # The grain is inlined (never a bound parameter) so GROUP BY matches the SELECT expression.
    return sa.cast(sa.func.date_trunc(sa.literal_column(f"'{grain}'"), column), sa.Date)


def _condition(column: sa.ColumnClause, flt: Filter) -> sa.ColumnElement[bool]:
    if flt.op == "in":
        values = flt.value if isinstance(flt.value, tuple) else (flt.value,)
        return column.in_(list(values))
    value = flt.value
    return {
        "=": column == value,
        ">=": column >= value,
        ">": column > value,
        "<": column < value,
        "<=": column <= value,
    }[flt.op]


def build_select(query: Query, table: sa.TableClause, dialect: str) -> sa.Select:
    """Compile ``query`` to a SQLAlchemy ``SELECT`` over ``table`` for ``dialect``."""
    selected: list[sa.ColumnElement] = []
    groups: list[sa.ColumnElement] = []
    for name in query.group_by:
        if name == PERIOD:
            assert query.period_column and query.period_grain
            column = table.c[query.period_column]
            expr = (
                column
                if query.period_grain == query.native_grain
                else _period_expr(column, query.period_grain, dialect)
            )
            selected.append(expr.label(PERIOD))
            groups.append(expr)
        else:
            selected.append(table.c[name].label(name))
            groups.append(table.c[name])
    for name in query.raw_columns:
        selected.append(table.c[name].label(name))
    for alias, node in query.measures:
        selected.append(to_sql(node, table).label(alias))
    stmt = sa.select(*selected).select_from(table)
    conditions = [_condition(table.c[f.column], f) for f in query.filters]
    if conditions:
        stmt = stmt.where(sa.and_(*conditions))
    if groups:
        stmt = stmt.group_by(*groups)
    for name, descending in _total_order(query):
        column = sa.literal_column(f'"{name}"')
        stmt = stmt.order_by(column.desc() if descending else column.asc())
    if query.limit:
        stmt = stmt.limit(query.limit)
    if query.offset:
        stmt = stmt.offset(query.offset)
    return stmt


def _total_order(query: Query) -> tuple[tuple[str, bool], ...]:
    """``query.order_by``, then the ``group_by`` columns it does not name, ascending: one row per
    group, so a total order. Without them, rows tied on the ordered measures came back in the
    engine's order, which DuckDB's parallel aggregation changes from one run to the next: a top-10
    table with ties showed other communes after a reload, or in its export."""
    named = {name for name, _ in query.order_by}
    return (*query.order_by, *((g, False) for g in query.group_by if g not in named))


def table_for(name: str, columns: Sequence[str]) -> sa.TableClause:
    """A lightweight table clause (no reflection) naming the columns a query may use."""
    return sa.table(name, *(sa.column(c) for c in columns))


def compile_for_duckdb(stmt: sa.Select) -> tuple[str, list[Any]]:
    """SQL text and positional parameters for DuckDB (PostgreSQL dialect, ``?`` params)."""
    from sqlalchemy.dialects import postgresql

    dialect = postgresql.dialect(paramstyle="qmark")
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    return compiled.string, [compiled.params[key] for key in compiled.positiontup or ()]
