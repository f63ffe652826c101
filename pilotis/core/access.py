"""The one access decision: may this person see this dashboard (and which rows)?

Every place that shows or returns data asks here: the navigation, the home page, the page
route, the routing callback, every widget callback, exports and the API. Deny unless allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pilotis.core.query import Filter
from pilotis.core.schema import AccessRule, DashboardSpec, DatasetBase
from pilotis.core.territory import Territory, TerritoryIndex, territory_filters

if TYPE_CHECKING:
    from pilotis.core.alert_rules import AlertRule
    from pilotis.core.referents import Directory
    from pilotis.core.registry import Dashboard, Registry
    from pilotis.core.report_config import ReportSpec

ROLES = ("agent", "manager", "president", "admin", "display")
"""Known roles. `president` reads everything; `admin` manages users and reads the audit log."""
READ_ALL_ROLES = frozenset({"president", "admin"})


@dataclass(frozen=True)
class Grant:
    """A dashboard opened to one person for a period (an access request granted by its referent
    or an administrator, :mod:`pilotis.accounts.access_requests`)."""

    dashboard: str
    """The dashboard's id."""
    until: datetime
    """When it ends by itself (timezone-aware UTC)."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: an authenticated user reduced to what access decisions need."""

    username: str
    department: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    territory: str | None = None
    """Row-level restriction, e.g. `epci:200083392` (only that EPCI's rows) or None (all rows)."""
    seance: str | None = None
    """Set for a wall screen opened by a display link (role `display`): the one séance it may show
    (``pilotis.accounts.display_links``). Such a principal opens no dashboard page and no other séance."""
    grants: tuple[Grant, ...] = ()
    """Dashboards opened to this person for a period, loaded with the principal (session, API
    token): read only by :func:`can_view`, which ignores the ones that ended."""

    def granted(self, now: datetime | None = None) -> frozenset[str]:
        """The ids of the dashboards granted to this person and not ended at ``now`` (default: now)."""
        if not self.grants:
            return frozenset()
        moment = now or datetime.now(UTC)
        return frozenset(g.dashboard for g in self.grants if g.until > moment)


def can_view(principal: Principal | None, dashboard: DashboardSpec) -> bool:
    """True when ``principal`` may open ``dashboard``. Anonymous users may open nothing.

    - no ``access`` block: administrators only (default deny: a dashboard nobody has opened
      to anyone yet — the president included — is a draft);
    - ``access: public-internal``: every signed-in user;
    - ``access: {departments, roles}``: members of a listed department or holders of a listed
      role; ``president`` and ``admin`` read every dashboard that has an ``access`` block;
    - an access granted to the person for a period (:attr:`Principal.grants`, until its end):
      that dashboard, if it has an ``access`` block (a draft is never granted).
    """
    if principal is None or principal.seance is not None:  # a display link opens its séance only
        return False
    rule = dashboard.access
    if rule is None:
        return "admin" in principal.roles
    if principal.roles & READ_ALL_ROLES:
        return True
    if rule == "public-internal":
        return True
    if not isinstance(rule, AccessRule):
        return False
    if principal.department and principal.department in rule.departments:
        return True
    if principal.roles & set(rule.roles):
        return True
    return bool(principal.grants) and dashboard.id in principal.granted()


def may_decide_access(
    principal: Principal | None, dashboard: DashboardSpec, referents: Directory, requester: str
) -> bool:
    """True when ``principal`` may grant or refuse ``requester``'s request for ``dashboard``:
    never their own request; an administrator; or a referent of the dashboard (holder or deputy
    in ``config/referents.yaml`` naming their account) who may open it themselves. A draft
    dashboard (no ``access`` block) is never granted."""
    if principal is None or principal.seance is not None or principal.username == requester:
        return False
    if dashboard.access is None:
        return False
    if "admin" in principal.roles:
        return True
    role = referents.role("dashboard", dashboard.id)
    accounts = {p.account for p in (role.holder, role.deputy) if p is not None and p.account} if role else set()
    return principal.username in accounts and can_view(principal, dashboard)


def can_view_seance(principal: Principal | None, seance: str, dashboards: Iterable[DashboardSpec | None]) -> bool:
    """True when ``principal`` may watch the séance ``seance`` (its live page, its callbacks and
    its snapshots), which shows ``dashboards`` (None stands for a dashboard that no longer exists).

    - a display link (``principal.seance``): its own séance only, whatever it shows;
    - anyone else: every dashboard shown must pass :func:`can_view` (no séance widens access).
    """
    if principal is None:
        return False
    if principal.seance is not None:
        return principal.seance == seance
    specs = list(dashboards)
    return bool(specs) and all(spec is not None and can_view(principal, spec) for spec in specs)


def can_view_indicator(principal: Principal | None, registry: Registry, indicator: str) -> bool:
    """True when ``principal`` may see the indicator ``indicator`` (its card, its KPI anywhere).

    An indicator is visible to whoever may open at least one *thematic* dashboard (not an
    ``overview``) that shows it, directly or inside another indicator's formula. An indicator
    that no thematic dashboard shows is visible to administrators only (default deny). A
    synthesis dashboard never makes an indicator visible by itself.
    """
    if principal is None or principal.seance is not None:
        return False
    shown_on = [
        registry.dashboards[d] for d in registry.indicator_dashboards.get(indicator, ()) if d in registry.dashboards
    ]
    if not shown_on:
        return "admin" in principal.roles and indicator in registry.indicators
    return any(can_view(principal, d.spec) for d in shown_on)


def can_view_widget(principal: Principal | None, registry: Registry, dashboard: Dashboard, widget_id: str) -> bool:
    """True when ``principal`` may see the widget ``widget_id`` of ``dashboard``: the dashboard
    (:func:`can_view`) and, on a synthesis dashboard (``overview: true``), every indicator the
    widget shows (:func:`can_view_indicator`). Used by the page layout, the widget callback and
    the callback guard (``pilotis.web.enforce``)."""
    return can_view(principal, dashboard.spec) and widget_indicators_visible(principal, registry, dashboard, widget_id)


def widget_indicators_visible(
    principal: Principal | None, registry: Registry, dashboard: Dashboard, widget_id: str
) -> bool:
    """The widget-level part of :func:`can_view_widget` alone, for callers that decided on the
    dashboard already (a séance: :func:`can_view_seance`). A wall screen's display link shows
    what its séance shows."""
    if not dashboard.spec.overview:
        return True
    if principal is not None and principal.seance is not None:
        return True
    shown = dashboard.widget_indicators.get(widget_id, ())
    return all(can_view_indicator(principal, registry, i) for i in shown)


def can_view_component(principal: Principal | None, registry: Registry, component_id: str) -> bool:
    """The widget-level part of the decision for a component id ``<dashboard>--<widget>[-<control>]``
    of a synthesis dashboard (ids of other dashboards, of filters and of the shell: True, their
    dashboard-level decision is :func:`can_view`)."""
    dashboard = registry.owner_of(component_id) if isinstance(component_id, str) else None
    if dashboard is None or not dashboard.spec.overview:
        return True
    name = component_id.partition("--")[2]
    widget_id = next(
        (
            w
            for w in sorted(dashboard.widget_indicators, key=len, reverse=True)
            if name == w or name.startswith(w + "-")
        ),
        None,
    )
    return widget_id is None or can_view_widget(principal, registry, dashboard, widget_id)


# --------------------------------------------------------------------------- rows


class RowsDenied(Exception):
    """Raised when a dataset's rows cannot be restricted to the user's territory (``row_level``)."""

    def __init__(self, dataset: str) -> None:
        super().__init__(dataset)
        self.dataset = dataset


def territory_scope(principal: Principal | None, index: TerritoryIndex) -> Territory | None:
    """The territory ``principal`` is restricted to, or None when they may see every row.

    Fails closed: a restriction that cannot be read, or that names no known EPCI or commune of
    the portal's département, becomes an impossible territory (no row passes).
    """
    if principal is None:
        return _NOWHERE
    if principal.territory is None or principal.roles & READ_ALL_ROLES:
        return None
    level, sep, code = principal.territory.partition(":")
    if not sep or level not in ("departement", "epci", "commune") or not code:
        return _NOWHERE
    scope = Territory(level, code)
    if level == "departement" and code == index.departement_code:
        return None
    return scope if index.is_known(scope) else _NOWHERE


_NOWHERE = Territory("commune", "\x00aucune")
"""A territory no row belongs to (used when a restriction cannot be honoured)."""


def territory_allowed(scope: Territory | None, territory: Territory, index: TerritoryIndex) -> bool:
    """True when ``territory`` lies inside ``scope`` (None: everything is allowed)."""
    if scope is None:
        return True
    if territory == scope:
        return True
    return (
        scope.level == "epci" and territory.level == "commune" and index.commune_epci.get(territory.code) == scope.code
    )


def clamp_territory(scope: Territory | None, territory: Territory, index: TerritoryIndex) -> Territory:
    """``territory`` if it lies inside ``scope``, else the scope itself (never wider)."""
    if scope is None or territory_allowed(scope, territory, index):
        return territory
    return scope


def recorded_scope(principal: Principal | None, index: TerritoryIndex) -> str | None:
    """The row scope of ``principal`` as kept with a rendering (a snapshot): ``epci:200083392``,
    or None when they see every row. A restriction that cannot be honoured is kept as a territory
    nobody else has (only unrestricted principals are covered by it, see :func:`scope_covers`)."""
    scope = territory_scope(principal, index)
    return None if scope is None else scope.value.replace("\x00", "")


def scope_covers(principal: Principal | None, recorded: str | None, index: TerritoryIndex) -> bool:
    """True when ``principal`` may see every row of a rendering made with the row scope
    ``recorded`` (:func:`recorded_scope`; None: every row of the département, also the value of
    snapshots frozen before the scope was recorded). Deny unless the scope lies inside theirs."""
    scope = territory_scope(principal, index)
    if scope is None:
        return True
    if recorded is None or scope is _NOWHERE:
        return False
    level, sep, code = recorded.partition(":")
    return bool(sep and code) and territory_allowed(scope, Territory(level, code), index)


def row_filters(
    principal: Principal | None, dataset: DatasetBase, index: TerritoryIndex, dataset_id: str = ""
) -> tuple[Filter, ...]:
    """Conditions every query on ``dataset`` must carry for ``principal`` (before aggregation).

    - no territorial restriction (or ``president`` / ``admin``): no condition;
    - restricted to an EPCI or a commune: the rows of that territory only, through the dataset's
      ``territory`` columns (EPCI column, or the list of the EPCI's communes);
    - the dataset cannot be cut at that level: :class:`RowsDenied`, unless the dataset says
      ``row_level: {territory: allow}`` (public département-level statistics).
    """
    scope = territory_scope(principal, index)
    if scope is None:
        return ()
    if scope is _NOWHERE:
        raise RowsDenied(dataset_id)
    filters, exact = territory_filters(dataset, scope, index)
    if exact and filters:
        return filters
    if dataset.row_level.territory == "allow":
        return ()
    raise RowsDenied(dataset_id)


# --------------------------------------------------------------------------- alerts


def may_see_alert_rule(principal: Principal | None, rule: AlertRule, registry: Registry) -> bool:
    """True when ``principal`` may see the alerts of ``rule`` at all: a recipient of the rule (or
    of its escalation), or ``president`` / ``admin``; for an indicator rule, someone who may see
    the indicator (:func:`can_view_indicator`). Deny unless allowed.

    A wall screen (display link, ``principal.seance``) sees the alerts of the rules whose
    ``dashboard`` its séance shows: the screen shows that dashboard's data already; it is never a
    recipient of a message (it has no address)."""
    if principal is None:
        return False
    if principal.seance is not None:
        seance = registry.seance(principal.seance)
        shown = {item.dashboard for item in seance.spec.items} if seance is not None else set()
        return rule.dashboard is not None and rule.dashboard in shown
    if rule.indicator is not None and not can_view_indicator(principal, registry, rule.indicator):
        return False
    if principal.roles & READ_ALL_ROLES:
        return True
    groups = [rule.recipients] + ([rule.escalation.recipients] if rule.escalation else [])
    return any(
        principal.username in group.users
        or (principal.department is not None and principal.department in group.departments)
        or bool(principal.roles & set(group.roles))
        for group in groups
    )


def can_receive_alert(principal: Principal | None, territory: str | None, index: TerritoryIndex) -> bool:
    """True when ``principal``'s territory restriction covers an alert instance located at
    ``territory`` (``commune:53130``; None: unknown place, only for unrestricted principals).
    Used for the messages and for /alertes alike (with :func:`may_see_alert_rule`): the same
    decision as for a snapshot's recorded scope (:func:`scope_covers`)."""
    return scope_covers(principal, territory, index)


# --------------------------------------------------------------------------- reports


def can_view_report(principal: Principal | None, report: ReportSpec, registry: Registry) -> bool:
    """True when ``principal`` may see and generate ``report`` (``config/reports/``): a member of
    its ``audience`` (directions, roles; ``president`` and ``admin`` as for a dashboard) who may
    also see every dashboard widget (:func:`can_view_widget`) and every indicator
    (:func:`can_view_indicator`) it draws from. Deny unless allowed; the rows are then those of
    the principal's territory (:func:`row_filters`), as everywhere."""
    if principal is None or principal.seance is not None:
        return False
    audience = report.audience
    member = bool(principal.roles & READ_ALL_ROLES) or (
        (principal.department is not None and principal.department in audience.departments)
        or bool(principal.roles & set(audience.roles))
    )
    if not member:
        return False
    for section in report.sections:
        if section.dashboard is not None:
            dashboard = registry.dashboards.get(section.dashboard)
            if dashboard is None or not can_view_widget(principal, registry, dashboard, section.widget or ""):
                return False
    return all(can_view_indicator(principal, registry, i) for i in report.indicator_ids())


def seance_shows_alert(
    principal: Principal | None, rule: AlertRule, territory: str | None, registry: Registry, index: TerritoryIndex
) -> bool:
    """For a wall screen (display link): True when an item of its séance showing the rule's
    dashboard shows the place of the instance — an item without a territory shows every place;
    an item filtered to a territory (`epci:200083392`) only the instances inside it (an instance of
    unknown place, none). Deny unless an item shows it. Anyone else: True (their own rights are
    :func:`may_see_alert_rule` and :func:`can_receive_alert`)."""
    if principal is None:
        return False
    if principal.seance is None:
        return True
    seance = registry.seance(principal.seance)
    if seance is None or rule.dashboard is None:
        return False
    for item in seance.spec.items:
        if item.dashboard != rule.dashboard:
            continue
        area = item.filters.territory
        if area is None or scope_covers(Principal(username=principal.username, territory=area), territory, index):
            return True
    return False
