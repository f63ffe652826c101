"""Loader part: `config/referents.yaml` (the referents directory, :mod:`pilotis.core.referents`).

The file is optional. Every subject it names must exist (a theme of ``config/indicators/``, a
dashboard, an indicator, a dataset) and every service must be a direction of the org chart;
problems are reported at ``file:line:col`` with a « vouliez-vous dire » hint, like every file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pilotis.core.errors import did_you_mean
from pilotis.core.load_files import ConfigReader
from pilotis.core.referents import SECTIONS, Directory, ReferentsFile, Role

NAMES = {"theme": "thèmes", "dashboard": "tableaux de bord", "indicator": "indicateurs", "dataset": "jeux de données"}
HINTS = {
    "theme": "un thème est le nom d'un fichier de config/indicators/",
    "dashboard": "identifiant d'un fichier de dashboards/",
    "indicator": "écrivez `<thème>.<nom>` (config/indicators/)",
    "dataset": "identifiant déclaré dans config/datasets/",
}


class ReferentFiles(ConfigReader):
    """The referents directory file."""

    def referents(
        self, known: Mapping[str, Iterable[str]], departments: dict[str, str], path: Path | None = None
    ) -> Directory:
        """Read and check ``config/referents.yaml`` (or ``path``); ``known`` lists the subject ids
        of each kind. A missing file is an empty directory."""
        path = path or self.config_dir / "referents.yaml"
        if not path.exists():
            return Directory.of(None)
        doc = self.read(path)
        if doc is None or doc.data is None:
            return Directory.of(None)
        if not isinstance(doc.data, dict):
            self.issues.append(
                doc.issue(
                    (), "le fichier doit être un bloc `clé: valeur`", "écrivez `datasets:` puis les rôles indentés"
                )
            )
            return Directory.of(None)
        found: dict[str, dict[str, Role]] = {}
        for section, roles in doc.data.items():
            kind = SECTIONS.get(str(section))
            if kind is None:
                hint = did_you_mean(str(section), SECTIONS, "sections") or f"sections : {', '.join(SECTIONS)}"
                self.issues.append(doc.issue((section,), f"section `{section}` inconnue", hint, key=True))
                continue
            if not isinstance(roles, dict):
                self.issues.append(doc.issue((section,), f"`{section}` : un rôle par identifiant", HINTS[kind]))
                continue
            ids = set(known.get(kind, ()))
            for ident, raw in roles.items():
                if ident not in ids:
                    hint = did_you_mean(str(ident), ids, NAMES[kind]) or HINTS[kind]
                    self.issues.append(doc.issue((section, ident), f"{section} : `{ident}` inconnu", hint, key=True))
                role = self.validate(Role, raw, doc, (section, ident))  # every role checked, all reported
                if role is None:
                    continue
                for position in ("holder", "deputy"):
                    person = getattr(role, position)
                    if person is not None and person.service and person.service not in departments:
                        self.issues.append(
                            doc.issue(
                                (section, ident, position, "service"),
                                f"service `{person.service}` inconnu",
                                did_you_mean(person.service, departments, "directions")
                                or "identifiant d'une direction de config/departments.yaml",
                            )
                        )
                found.setdefault(str(section), {})[str(ident)] = role
        return Directory.of(ReferentsFile(**found))
