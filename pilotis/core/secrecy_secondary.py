"""Secondary suppression of statistical secrecy (:mod:`pilotis.core.secrecy`): along each
dimension of a masked grid, within the group of cells sharing the other dimensions, a group with a
masked cell keeps at least two masked cells adding up to the threshold, by masking its smallest
other cells (ties broken by code: the same cells in every view). Groups are numbered with numpy
(``pd.factorize``, ``np.bincount``); only the groups that may change are walked in Python."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from pilotis.core.query import PERIOD
from pilotis.core.schema_catalogue import SecrecyRule

if TYPE_CHECKING:
    from pilotis.core.secrecy import Plan

_YEAR = "__secret_year"
_MAX_ROUNDS = 50


def secondary(frame: pd.DataFrame, values: np.ndarray, masked: np.ndarray, plan: Plan, rule: SecrecyRule) -> None:
    """Mask more cells until each group with a masked cell has ≥ 2 of them adding up to the threshold."""
    if not masked.any():
        return
    dims = [d for d in plan.asked.group_by if d not in plan.parents]
    partitions: list[tuple[str | None, list[pd.Series]]] = []
    if plan.query.raw_columns:
        partitions.append((None, []))
    for dim in dims:
        if dim == PERIOD and plan.stock:
            continue  # a stock is never added up over time
        others = [frame[d] for d in plan.asked.group_by if d != dim]
        if dim == PERIOD:  # a flow's months add up to its year
            others.append(pd.to_datetime(frame[PERIOD], errors="coerce").dt.year.rename(_YEAR))
        partitions.append((dim, others))
    groups = [Groups(frame, dim, keys) for dim, keys in partitions]
    known = values[~np.isnan(values)]
    # Sums of counts found in any order (whole numbers below 2**53): a group is then known to be
    # protected from two array sums, without a pass in Python (its result is the same).
    exact = bool(np.all(known == np.floor(known)) and np.abs(known).sum() < 2**53)
    for _ in range(_MAX_ROUNDS):
        changed = False
        for group in groups:  # one partition's groups are disjoint: their order changes nothing
            for index in group.unprotected(values, masked, rule, exact):
                changed |= protect(group.codes, index, values, masked, rule)
        if not changed:
            return


class Groups:
    """The groups of rows sharing ``keys`` (one group without keys), as a group number per row;
    ``codes``: the value of dimension ``dim`` of each row as text (ties are broken by it)."""

    def __init__(self, frame: pd.DataFrame, dim: str | None, keys: list[pd.Series]) -> None:
        ids = np.zeros(len(frame), dtype=np.int64)
        for key in keys:  # like groupby(dropna=False): a missing value is a group of its own
            codes, uniques = pd.factorize(key, use_na_sentinel=False)
            ids, _ = pd.factorize(ids * max(1, len(uniques)) + codes)
        self.ids = ids
        self.count = int(ids.max()) + 1 if len(ids) else 0
        self.sizes = np.bincount(ids, minlength=self.count)
        self.order = np.argsort(ids, kind="stable")  # each group's rows in grid order
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)))
        self._frame, self._dim = frame, dim
        self._codes: np.ndarray | None = None

    @property
    def codes(self) -> np.ndarray:
        """The text of each row's ``dim`` value (a missing one: ``""``, never compared with a text
        as a float), or of its position for raw rows; read only for the groups to protect."""
        if self._codes is None:
            frame, dim = self._frame, self._dim
            if dim is None:
                self._codes = np.arange(len(frame)).astype(str)
            else:
                self._codes = frame[dim].astype(str).to_numpy(dtype=object, na_value="")
        return self._codes

    def unprotected(self, values: np.ndarray, masked: np.ndarray, rule: SecrecyRule, exact: bool) -> list[np.ndarray]:
        """Positions of the rows of each group :func:`_protect` may change: some cells masked,
        not all, and (when ``exact``) fewer than two masked or adding up to less than the threshold."""
        hidden = np.bincount(self.ids, weights=masked, minlength=self.count)
        todo = (hidden > 0) & (hidden < self.sizes)
        if exact:
            sums = np.bincount(
                self.ids, weights=np.where(masked & ~np.isnan(values), values, 0.0), minlength=self.count
            )
            todo &= (hidden < 2) | (sums < rule.threshold)
        return [self.order[self.starts[g] : self.starts[g + 1]] for g in np.flatnonzero(todo)]


def protect(codes: np.ndarray, index: np.ndarray, values: np.ndarray, masked: np.ndarray, rule: SecrecyRule) -> bool:
    """Mask the smallest free cells of one group until it is protected; True when one was masked."""
    hidden = index[masked[index]]
    if len(hidden) == 0 or len(hidden) == len(index):
        return False
    if len(hidden) >= 2 and np.nansum(values[hidden]) >= rule.threshold:
        return False
    free = [i for i in index if not masked[i] and not np.isnan(values[i])]
    # smallest counts first (zeros last: they protect nothing), ties by code: the same cells in every view
    free.sort(key=lambda i: (values[i] == 0 and not rule.zeros, values[i], codes[i]))
    changed = False
    for i in free:
        if len(hidden) >= 2 and np.nansum(values[hidden]) >= rule.threshold:
            break
        masked[i] = True
        hidden = np.append(hidden, i)
        changed = True
    return changed
