"""Loader part: `config/portal.yaml` (and the map outlines it names) and `config/departments.yaml`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pilotis.core.access import ROLES
from pilotis.core.errors import ConfigIssue, did_you_mean
from pilotis.core.load_files import ConfigReader
from pilotis.core.registry import Dashboard
from pilotis.core.schema import SLUG, AccessRule, Departments, PortalConfig
from pilotis.core.yamlmarks import MarkedDocument


class PortalFiles(ConfigReader):
    """The portal's own file and the org chart."""

    def portal(self) -> PortalConfig | None:
        path = self.config_dir / "portal.yaml"
        if not path.exists():
            self.issues.append(
                ConfigIssue(self.display(path), 1, 1, "fichier manquant", "créez config/portal.yaml (voir le README)")
            )
            return None
        doc = self.read(path)
        if doc is None:
            return None
        if not isinstance(doc.data, dict):
            self.issues.append(
                doc.issue(
                    (),
                    "le fichier doit être un bloc `clé: valeur`" if doc.data is not None else "fichier vide",
                    "écrivez `collectivite:` puis `nom:` et `code_departement:` indentés",
                )
            )
            return None
        self.portal_doc = doc
        return self.validate(PortalConfig, doc.data, doc)

    def check_maps(self, portal: PortalConfig, dashboards: dict[str, Dashboard]) -> None:
        """The outlines of each map level in use (`geo_communes`, `geo_epci`) exist and are GeoJSON."""
        if self.portal_doc is None:
            return
        levels = {
            getattr(widget, "level", None)
            for dashboard in dashboards.values()
            for widget in dashboard.widgets
            if widget.type == "choropleth"  # the widget type that draws these outlines (layouts/maps.py)
        }
        for level, key in (("commune", "geo_communes"), ("epci", "geo_epci")):
            if level in levels:
                self.check_geojson(self.portal_doc, key, getattr(portal, key))

    def check_geojson(self, doc: MarkedDocument, key: str, value: str) -> None:
        """``value`` must be a GeoJSON ``FeatureCollection`` whose features have a `code` (the map reads it)."""
        path = self.root / value
        written = key in doc.data
        if not path.is_file():
            folder = Path(value).parent
            siblings = (
                [(folder / p.name).as_posix() for p in path.parent.glob("*.geojson")] if path.parent.is_dir() else []
            )
            hint = did_you_mean(value, siblings, "fichiers GeoJSON") or "chemin relatif à la racine du projet"
            self.issues.append(
                doc.issue(
                    (key,),
                    f"`{key}` : fichier `{value}` introuvable",
                    hint,
                    key=not written,
                )
            )
            return
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            data = None
        features = data.get("features") if isinstance(data, dict) and data.get("type") == "FeatureCollection" else None
        if not isinstance(features, list):
            problem = "n'est pas un fichier GeoJSON lisible"
        elif not all(isinstance(f, dict) and "code" in (f.get("properties") or {}) for f in features):
            problem = "a des contours sans propriété `code`"
        else:
            return
        self.issues.append(
            doc.issue(
                (key,),
                f"`{key}` : `{value}` {problem}",
                "indiquez un fichier GeoJSON `FeatureCollection` dont chaque contour a la propriété `code` "
                "(code INSEE de la commune ou SIREN de l'EPCI)",
                key=not written,
            )
        )

    # ------------------------------------------------------------------ departments
    def departments(self) -> dict[str, str]:
        """The org chart; a missing file is an empty org chart (references to it are then errors)."""
        path = self.config_dir / "departments.yaml"
        if not path.exists():
            return {}
        doc = self.read(path)
        if doc is None or doc.data is None:
            return {}
        if not isinstance(doc.data, dict):
            self.issues.append(
                doc.issue(
                    (),
                    "le fichier doit associer un identifiant à chaque direction",
                    "écrivez `solidarites: Direction des solidarités`",
                )
            )
            return {}
        valid: dict[str, str] = {}
        before = len(self.issues)
        for key, label in doc.data.items():
            if not re.match(SLUG, str(key)):
                self.issues.append(
                    doc.issue(
                        (key,),
                        f"identifiant de direction `{key}` invalide",
                        "lettres minuscules sans accent, chiffres, `_` ou `-`",
                        key=True,
                    )
                )
            elif not isinstance(label, str) or not label.strip():
                self.issues.append(
                    doc.issue(
                        (key,), f"direction `{key}` : le libellé doit être un texte", f"écrivez `{key}: Direction …`"
                    )
                )
            valid[str(key)] = str(label)  # kept even when invalid: no cascade of « inconnue » errors
        departments = self.validate(Departments, valid, doc) if len(self.issues) == before else None
        return dict(departments.root) if departments is not None else valid

    def check_departments(self, dashboards: dict[str, Dashboard], departments: dict[str, str]) -> None:
        """Every `department` and `access.departments` entry of a dashboard names a known direction."""
        hint_missing = "déclarez les directions dans config/departments.yaml"
        for dashboard in dashboards.values():
            doc = self.read(dashboard.source_file)
            if doc is None:
                continue
            spec = dashboard.spec
            refs: list[tuple[tuple, str]] = []
            if spec.department:
                refs.append((("department",), spec.department))
            if isinstance(spec.access, AccessRule):
                refs += [(("access", "departments", i), d) for i, d in enumerate(spec.access.departments)]
            for loc, name in refs:
                if name not in departments:
                    self.issues.append(
                        doc.issue(loc, f"direction `{name}` inconnue", did_you_mean(name, departments) or hint_missing)
                    )
            roles = spec.access.roles if isinstance(spec.access, AccessRule) else []
            for index, role in enumerate(roles):
                if role not in ROLES:  # a typo would silently grant nothing
                    self.issues.append(
                        doc.issue(
                            ("access", "roles", index), f"rôle `{role}` inconnu", did_you_mean(role, ROLES, "rôles")
                        )
                    )
