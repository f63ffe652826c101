"""Topology-preserving simplification of GeoJSON contours (plain Python).

The rings of all layers (communes, EPCI, département) are cut into *arcs* at
junction vertices, i.e. vertices whose neighbours differ between the rings
that use them (the TopoJSON rule).  Each arc is simplified once with
Douglas–Peucker in a canonical orientation, so a border shared by two
communes - or by a commune and its EPCI - is simplified identically on both
sides: no gaps or slivers appear between neighbours after simplification.
"""

from __future__ import annotations

import math
from typing import Any

Point = tuple[float, float]
Ring = list[Point]


def _round_ring(ring: list[list[float]], ndigits: int) -> Ring:
    """Round coordinates and drop consecutive duplicates; result is open (no closing point)."""
    out: Ring = []
    for x, y in ring:
        p = (round(x, ndigits), round(y, ndigits))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _seg_dist(p: Point, a: Point, b: Point) -> float:
    """Distance from point p to segment [a, b] (planar, in degrees)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    if dx == 0 and dy == 0:
        return math.hypot(p[0] - a[0], p[1] - a[1])
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def douglas_peucker(points: Ring, tol: float) -> Ring:
    """Classic Douglas–Peucker (iterative); endpoints are always kept."""
    n = len(points)
    if n <= 2 or tol <= 0:
        return list(points)
    keep = [False] * n
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            d = _seg_dist(points[k], points[i], points[j])
            if d > best:
                best, idx = d, k
        if idx > 0 and best > tol:
            keep[idx] = True
            stack.extend([(i, idx), (idx, j)])
    return [p for p, k in zip(points, keep, strict=True) if k]


class TopoSimplifier:
    """Simplify several ring sets so that shared borders stay shared."""

    def __init__(self, rings: list[Ring], tol: float) -> None:
        self.tol = tol
        self._arc_tol: dict[tuple[Point, ...], float] = {}
        neighbours: dict[Point, set[frozenset[Point]]] = {}
        for ring in rings:
            n = len(ring)
            for i, p in enumerate(ring):
                pair = frozenset((ring[i - 1], ring[(i + 1) % n]))
                neighbours.setdefault(p, set()).add(pair)
        self._junctions = {p for p, pairs in neighbours.items() if len(pairs) > 1}
        # A ring that would collapse (< 3 distinct points) gets a smaller
        # tolerance on all its arcs; iterate until stable (all layers share arcs).
        changed = True
        while changed:
            changed = False
            for ring in rings:
                if len(self._assemble(ring)) < 3:
                    for key in self._arcs(ring):
                        current = self._arc_tol.get(key, tol)
                        if current > 0:
                            self._arc_tol[key] = 0.0 if current < tol / 8 else current / 4
                            changed = True

    def _split(self, ring: Ring) -> list[Ring]:
        """Cut a ring into arcs starting and ending on junctions (canonical start if none)."""
        n = len(ring)
        starts = [i for i, p in enumerate(ring) if p in self._junctions]
        if not starts:
            starts = [min(range(n), key=lambda i: ring[i])]
        arcs = []
        for k, s in enumerate(starts):
            e = starts[(k + 1) % len(starts)]
            length = (e - s) % n or n
            arcs.append([ring[(s + m) % n] for m in range(length + 1)])
        return arcs

    @staticmethod
    def _canonical(arc: Ring) -> tuple[tuple[Point, ...], bool]:
        rev = arc[::-1]
        flipped = tuple(rev) < tuple(arc)
        return (tuple(rev) if flipped else tuple(arc)), flipped

    def _arcs(self, ring: Ring) -> list[tuple[Point, ...]]:
        return [self._canonical(a)[0] for a in self._split(ring)]

    def _assemble(self, ring: Ring) -> Ring:
        out: Ring = []
        for arc in self._split(ring):
            key, flipped = self._canonical(arc)
            simple = douglas_peucker(list(key), self._arc_tol.get(key, self.tol))
            if flipped:
                simple = simple[::-1]
            out.extend(simple[:-1])
        return out

    def ring(self, ring: Ring) -> list[list[float]]:
        """Simplified closed ring as GeoJSON coordinates."""
        out = self._assemble(ring)
        if len(out) < 3:  # degenerate even at tolerance 0: keep the rounded ring
            out = ring
        return [list(p) for p in out + out[:1]]


def _polygons(geometry: dict[str, Any]) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


def simplify_layers(
    layers: list[tuple[dict[str, Any], str, str]], ndigits: int = 4, tol: float = 0.001
) -> list[dict[str, Any]]:
    """Simplify GeoJSON FeatureCollections together.

    ``layers`` holds ``(collection, code_property, name_property)``; each output
    feature only keeps ``{"code", "nom"}``, features are sorted by code.
    """
    rounded = []
    for fc, _, _ in layers:
        rounded.append(
            [[[_round_ring(r, ndigits) for r in poly] for poly in _polygons(f["geometry"])] for f in fc["features"]]
        )
    all_rings = [r for layer in rounded for feat in layer for poly in feat for r in poly]
    topo = TopoSimplifier(all_rings, tol)
    outputs = []
    for (fc, code_prop, name_prop), layer in zip(layers, rounded, strict=True):
        features: list[dict[str, Any]] = []
        for feat, polys in zip(fc["features"], layer, strict=True):
            coords = [[topo.ring(r) for r in poly] for poly in polys]
            geom = (
                {"type": "Polygon", "coordinates": coords[0]}
                if len(coords) == 1
                else {"type": "MultiPolygon", "coordinates": coords}
            )
            props = {
                "code": str(feat["properties"][code_prop]),
                "nom": feat["properties"][name_prop],
            }
            features.append({"type": "Feature", "properties": props, "geometry": geom})
        features.sort(key=lambda f: f["properties"]["code"])
        outputs.append({"type": "FeatureCollection", "features": features})
    return outputs
