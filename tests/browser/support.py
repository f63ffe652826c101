"""What the browser tests look at: the shipped dashboards, a page being ready, plot data, axe."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pilotis.core.settings import ROOT

DASHBOARD_FILES = sorted((ROOT / "dashboards").glob("*.yaml"))
"""Globbed: a new dashboard is covered by every browser test without editing them."""
GRAPH_TYPES = {"line", "bar", "stacked_bar", "area", "pie", "choropleth", "points"}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
READY_TIMEOUT = 45_000
"""Bounded waits (ms): generous, only a failing test waits that long."""


def dashboard_ids() -> list[str]:
    """Ids of the dashboards in dashboards/ (read from the YAML, file name as a fallback)."""
    ids = []
    for path in DASHBOARD_FILES:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            data = {}
        ids.append(str(data.get("id") or path.stem) if isinstance(data, dict) else path.stem)
    return ids


@dataclass(frozen=True)
class Expected:
    """What a dashboard page must show once its callbacks have answered."""

    id: str
    url: str
    title: str
    graphs: int
    kpis: int
    bodies: int

    def js(self) -> dict[str, int]:
        return {"graphs": self.graphs, "kpis": self.kpis, "bodies": self.bodies}


def expected(portal: Any, dashboard_id: str) -> Expected:
    """Counts taken from the loaded registry (the same YAML the server reads)."""
    dashboard = portal.registry.dashboards[dashboard_id]
    widgets = dashboard.widgets
    from pilotis.core.widgets import WIDGET_TYPES

    return Expected(
        id=dashboard_id,
        url=dashboard.spec.url,
        title=dashboard.spec.title,
        graphs=sum(1 for w in widgets if w.type in GRAPH_TYPES),
        kpis=sum(1 for w in widgets if w.type == "kpi"),
        bodies=sum(1 for w in widgets if not WIDGET_TYPES[w.type].is_static(w)),
    )


# A dashboard is ready when every widget callback has filled its body, every plotly graph has
# drawn at least one trace and every KPI shows a value.
READY_JS = """
(expected) => {
  // A chart is drawn when it comes near the screen (assets/pilotis-lazy-charts.js): bring each
  // waiting one into view, as a reader scrolling down the page does; back to the top when done.
  const waiting = document.querySelector('.pilotis-chart-waiting');
  if (waiting) {
    waiting.scrollIntoView({block: 'center'});
    return false;
  }
  const bodies = [...document.querySelectorAll('.pilotis-widget-body')];
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const drawn = plots.filter(p => p.querySelector('.main-svg g.trace'));
  const kpis = [...document.querySelectorAll('.pilotis-kpi-value')];
  const ready = bodies.length >= expected.bodies
    && bodies.every(b => b.childElementCount > 0)
    && plots.length >= expected.graphs && drawn.length === plots.length
    && kpis.length >= expected.kpis;
  if (ready && window.scrollY) {
    window.scrollTo(0, 0);
  }
  return ready;
}
"""

COMPONENTS_JS = """
() => {
  // Dash components in dash-renderer's layout store (the page and every callback's answer), by
  // type: what its selectors and loading reducer walk on every store update.
  const counts = {};
  const walk = (node) => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (!node || typeof node !== 'object') { return; }
    if (node.type && node.namespace && node.props) {
      const key = node.namespace + '.' + node.type;
      counts[key] = (counts[key] || 0) + 1;
      Object.values(node.props).forEach(walk);
    } else {
      Object.values(node).forEach(walk);  // the store's wrapper objects
    }
  };
  walk(window.store.getState().layout);
  return counts;
}
"""

STATE_JS = """
() => {
  const bodies = [...document.querySelectorAll('.pilotis-widget-body')];
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  return {
    bodies: bodies.length,
    empty_bodies: bodies.filter(b => b.childElementCount === 0).map(b => b.id),
    plots: plots.length,
    drawn: plots.filter(p => p.querySelector('.main-svg g.trace')).length,
    kpis: [...document.querySelectorAll('.pilotis-kpi-value')].map(k => k.textContent.trim()),
    errors: [...document.querySelectorAll('.pilotis-notice.alert-danger')]
      .map(n => n.textContent.trim()),
  };
}
"""

# A light fingerprint of what the figures and KPI cards show (no geojson: it can weigh 1 MB).
FINGERPRINT_JS = """
() => ({
  plots: [...document.querySelectorAll('.js-plotly-plot')].map(p => (p.data || []).map(t => {
    const keep = {};
    for (const key of ['x', 'y', 'z', 'values', 'labels', 'locations', 'lat', 'lon', 'text']) {
      const v = t[key];
      if (v !== undefined) keep[key] = Array.from(v && v.length !== undefined ? v : [v]);
    }
    return keep;
  })),
  kpis: [...document.querySelectorAll('.pilotis-widget-body')].map(b => b.textContent),
})
"""

CHANGED_JS = f"""
([expected, part, before]) => ({READY_JS})(expected)
  && JSON.stringify(({FINGERPRINT_JS})()[part]) !== before
"""
"""True once the page is drawn again and shows something else than ``before`` (JSON text)."""

# Numeric tick labels of every axis and colour bar, to check the French number format.
TICKS_JS = """
() => [...document.querySelectorAll(
  '.js-plotly-plot .xtick text, .js-plotly-plot .ytick text, .js-plotly-plot .cbaxis text')]
  .map(t => t.textContent)
"""

AXE_JS = """
async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
  }));
}
"""


def wait_ready(page: Any, exp: Expected, timeout: int = READY_TIMEOUT) -> dict[str, Any]:
    """Wait (bounded) until the dashboard is drawn; returns its state for the assertions."""
    try:
        page.wait_for_function(READY_JS, arg=exp.js(), timeout=timeout, polling=100)
    except Exception as exc:  # noqa: BLE001 - say what was missing, not just "timeout"
        state = page.evaluate(STATE_JS)
        raise AssertionError(
            f"{exp.url}: not drawn within {timeout / 1000:.0f} s; expected {exp.js()}, page has {state}"
        ) from exc
    return page.evaluate(STATE_JS)  # type: ignore[no-any-return]


def run_axe(page: Any, script: Path) -> list[dict[str, Any]]:
    """axe-core violations of the WCAG 2.1 A/AA rules on the current page."""
    # Evaluated through the DevTools protocol: a <script> tag of inline code (add_script_tag) would
    # be refused by the portal's Content-Security-Policy (pilotis/csp.py), as any injected script.
    page.evaluate(script.read_text(encoding="utf-8"))
    return page.evaluate(AXE_JS, AXE_TAGS)  # type: ignore[no-any-return]


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable list of violations for an assertion message."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target']}: {(node['summary'] or '').splitlines()[-1:]}")
    return "\n".join(lines)


def artifact_name(path: str) -> str:
    """A file name for a page path (`/` -> `home`)."""
    return path.strip("/").replace("/", "-") or "home"


__all__ = ["Path", "DASHBOARD_FILES"]
