"""Loader part: `config/datasets/*.yaml`, each dataset opened through its source type."""

from __future__ import annotations

import re
from typing import Any

from pilotis.core.access import ROLES
from pilotis.core.errors import did_you_mean
from pilotis.core.load_files import ConfigReader
from pilotis.core.schema import SLUG, DatasetBase
from pilotis.core.secrecy import rule_of
from pilotis.core.sources import SOURCE_TYPES, DataSource, SourceError
from pilotis.core.validation import shown_value
from pilotis.core.yamlmarks import MarkedDocument


class DatasetFiles(ConfigReader):
    """The datasets: ids, source types, columns, named measures."""

    def datasets(self) -> dict[str, DataSource]:
        sources: dict[str, DataSource] = {}
        seen: dict[str, str] = {}
        self.other_extensions(self.config_dir / "datasets")
        for path in sorted((self.config_dir / "datasets").glob("*.yaml")):
            doc = self.read(path)
            if doc is None or doc.data is None:
                continue
            if not isinstance(doc.data, dict):
                self.issues.append(
                    doc.issue(
                        (),
                        "le fichier doit associer un identifiant à chaque jeu de données",
                        "écrivez `mon_jeu:` puis ses options indentées",
                    )
                )
                continue
            for dataset_id, spec in doc.data.items():
                loc = (dataset_id,)
                if dataset_id in seen:
                    self.issues.append(
                        doc.issue(
                            loc,
                            f"jeu de données `{dataset_id}` déjà défini dans {seen[dataset_id]}",
                            "renommez l'un des deux",
                            key=True,
                        )
                    )
                    continue
                seen[dataset_id] = doc.path
                if not re.match(SLUG, str(dataset_id)):
                    self.issues.append(
                        doc.issue(
                            loc,
                            f"identifiant `{dataset_id}` invalide",
                            "lettres minuscules sans accent, chiffres, `_` ou `-`, en commençant par une lettre",
                            key=True,
                        )
                    )
                    continue
                source = self.dataset(dataset_id, spec, doc)
                if source is not None:
                    sources[dataset_id] = source
        return sources

    def dataset(self, dataset_id: str, spec: Any, doc: MarkedDocument) -> DataSource | None:
        loc = (dataset_id,)
        self.failed.add(dataset_id)  # until it loads: widgets using it are not reported again
        if not isinstance(spec, dict):
            self.issues.append(
                doc.issue(
                    loc,
                    f"le jeu de données `{dataset_id}` doit être un bloc `clé: valeur`",
                    "indentez ses options (`type`, `path`, `title`…) sous son identifiant",
                )
            )
            return None
        kind = spec.get("type")
        if not isinstance(kind, str) or kind not in SOURCE_TYPES:
            message = (
                "clé `type` obligatoire manquante" if kind is None else f"type de source {shown_value(kind)} inconnu"
            )
            hint = (
                did_you_mean(str(kind), SOURCE_TYPES)
                if isinstance(kind, str)
                else did_you_mean("", SOURCE_TYPES, "types possibles")
            )
            self.issues.append(
                doc.issue(
                    (*loc, "type") if kind is not None else loc,
                    message,
                    hint if kind is not None else f"ajoutez `type: …` ({hint})",
                    key=kind is None,
                )
            )
            return None
        cls = SOURCE_TYPES[kind]
        config = self.validate(cls.Config, spec, doc, loc)
        if config is None:
            return None
        where = "path" if "path" in spec else "url" if "url" in spec else "type"
        try:
            source = cls(dataset_id, config, self.root, self.duck)
            source.app_database = self.app_database
            columns = self.columns(source)
        except SourceError as exc:
            self.issues.append(
                doc.issue(
                    (*loc, where), f"source `{dataset_id}` illisible : {exc}", "vérifiez le chemin ou la connexion"
                )
            )
            return None
        except Exception as exc:  # noqa: BLE001 - a source type's bug is reported, not a traceback
            self.issues.append(
                doc.issue(
                    (*loc, where),
                    f"source `{dataset_id}` illisible : `{exc.__class__.__name__}: {exc}`",
                    f"erreur inattendue du type de source `{kind}`",
                )
            )
            return None
        wanted = source.sensor_source()
        if wanted is not None and wanted not in self.sensor_sources:
            self.issues.append(
                doc.issue(
                    (*loc, "source"),
                    f"source de capteurs `{wanted}` inconnue",
                    did_you_mean(wanted, self.sensor_sources, "sources de capteurs")
                    if self.sensor_sources
                    else f"déclarez-la dans config/sensors/{wanted}.yaml",
                )
            )
            return None
        self.check_dataset_columns(config, columns, doc, loc)
        self.failed.discard(dataset_id)
        return source

    def check_dataset_columns(self, config: DatasetBase, columns: set[str], doc: MarkedDocument, loc: tuple) -> None:
        refs: list[tuple[tuple, str]] = [((*loc, "columns", name), name) for name in config.columns]
        if config.territory:
            refs += [((*loc, "territory", k), v) for k, v in config.territory.model_dump().items() if v]
        if config.period:
            refs.append(((*loc, "period", "column"), config.period.column))
        for ref_loc, column in refs:
            if column not in columns:
                self.issues.append(
                    doc.issue(
                        ref_loc,
                        f"colonne `{column}` absente du jeu de données",
                        did_you_mean(column, columns),
                        key=ref_loc[-2] == "columns",
                    )
                )
        for name, text in config.measures.items():
            self.check_measure(text, columns, doc, (*loc, "measures", name))
        self.check_secrecy(config, columns, doc, loc)

    def check_secrecy(self, config: DatasetBase, columns: set[str], doc: MarkedDocument, loc: tuple) -> None:
        """A secrecy rule names columns of the dataset and roles that exist."""
        rule = rule_of(config)
        if rule is None:
            return
        where = (*loc, "sensitivity", "statistical_secrecy")
        for index, column in enumerate(rule.columns):
            if column != "*" and column not in columns:
                self.issues.append(
                    doc.issue(
                        (*where, "columns", index),
                        f"colonne `{column}` absente du jeu de données",
                        did_you_mean(column, columns),
                    )
                )
        for index, role in enumerate(rule.exempt_roles):
            if role not in ROLES:
                self.issues.append(
                    doc.issue((*where, "exempt_roles", index), f"rôle `{role}` inconnu", did_you_mean(role, ROLES))
                )
