"""The one access decision: may this person see this dashboard (and which rows)?

Every place that shows or returns data asks here: the navigation, the home page, the page
route, the routing callback, every widget callback, exports and the API. Deny unless allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pilotis.schema import AccessRule, DashboardSpec

ROLES = ("agent", "manager", "president", "admin", "display")
"""Known roles. `president` reads everything; `admin` manages users and reads the audit log."""
READ_ALL_ROLES = frozenset({"president", "admin"})


@dataclass(frozen=True)
class Principal:
    """Who is asking: an authenticated user reduced to what access decisions need."""

    username: str
    department: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    territory: str | None = None
    """Row-level restriction, e.g. `epci:200083392` (only that EPCI's rows) or None (all rows)."""


def can_view(principal: Principal | None, dashboard: DashboardSpec) -> bool:
    """True when ``principal`` may open ``dashboard``. Anonymous users may open nothing.

    - no ``access`` block: administrators only (default deny);
    - ``access: public-internal``: every signed-in user;
    - ``access: {departments, roles}``: members of a listed department or holders of a listed
      role; ``president`` and ``admin`` read every dashboard.
    """
    if principal is None:
        return False
    if principal.roles & READ_ALL_ROLES:
        return True
    rule = dashboard.access
    if rule is None:
        return False
    if rule == "public-internal":
        return True
    assert isinstance(rule, AccessRule)
    if principal.department and principal.department in rule.departments:
        return True
    return bool(principal.roles & set(rule.roles))
