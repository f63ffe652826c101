"""Loader part: `config/referents.yaml` (the referents directory, :mod:`pilotis.core.referents`).

The file is optional. Every subject it names must exist (a theme of ``config/indicators/``, a
dashboard, an indicator, a dataset) and every service must be a direction of the org chart;
problems are reported at ``file:line:col`` with a « vouliez-vous dire » hint, like every file.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pilotis.core.errors import did_you_mean
from pilotis.core.load_files import ConfigReader
from pilotis.core.referents import SECTIONS, Directory, ReferentsFile

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
        self, known: dict[str, Iterable[str]], departments: dict[str, str], path: Path | None = None
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
        spec = self.validate(ReferentsFile, doc.data, doc)
        if spec is None:
            return Directory.of(None)
        for section, kind in SECTIONS.items():
            ids = set(known.get(kind, ()))
            for ident, role in getattr(spec, section).items():
                if ident not in ids:
                    hint = did_you_mean(ident, ids, NAMES[kind]) or HINTS[kind]
                    self.issues.append(doc.issue((section, ident), f"{section} : `{ident}` inconnu", hint, key=True))
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
        return Directory.of(spec)
