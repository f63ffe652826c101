"""Field docstrings are read when asked (JSON Schema, YAML reference), never at import.

The YAML models used to set pydantic's ``use_attribute_docstrings=True``: their source was read
through inspect/tokenize/ast at class creation, ≈ 0.1 s of CPU at every start of a worker or
command. :mod:`pilotis.core.field_docs` reads the same docstrings on demand; these tests check
that they still reach the schemas, that the reading gives what pydantic gave, and that importing
the models no longer reads any source.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pilotis.cli.docs import yaml_models
from pilotis.core.field_docs import field_descriptions
from pilotis.core.jsonschema import alerts_schema, dashboard_schema, datasets_schema
from pilotis.core.schema import DashboardSpec, DatasetBase, Departments
from pilotis.core.schema_base import Strict
from pilotis.core.settings import ROOT
from pilotis.plugins import register_builtins

APP_PACKAGES = {"pilotis", "layouts", "data_sources"}
TITLE = "Titre affiché dans la navigation et en haut de la page."


def test_field_docstrings_reach_the_json_schemas() -> None:
    register_builtins()
    dashboard = dashboard_schema()
    assert dashboard["properties"]["title"]["description"] == TITLE
    assert dashboard["$defs"]["Filters"]["properties"]  # nested models are described too
    assert all(p.get("description") for p in dashboard["$defs"]["Filters"]["properties"].values())
    # A field inherited from DatasetBase keeps its docstring in every source type's model.
    datasets = datasets_schema()
    csv = datasets["$defs"]["data_sources__files__CsvSource__Config"]["properties"]["title"]
    assert csv["description"] == field_descriptions(DatasetBase)["title"]
    assert csv["description"]
    # A key written by its alias (`for`, the field `for_`) is described under the alias.
    assert alerts_schema()["properties"]["for"]["description"].startswith("Durée pendant laquelle")


def test_the_models_no_longer_carry_descriptions_themselves() -> None:
    assert not Strict.model_config.get("use_attribute_docstrings")
    assert DashboardSpec.model_fields["title"].description is None
    assert field_descriptions(DashboardSpec)["title"] == TITLE
    assert field_descriptions(Departments) == {"root": None}  # not a Strict model: no docstrings read


IMPORT_READS_NO_SOURCE = """
import inspect, json

calls = []
for name in ("findsource", "getsourcelines", "getsource"):
    def spy(*args, _name=name, _real=getattr(inspect, name), **kwargs):
        calls.append(_name)
        return _real(*args, **kwargs)
    setattr(inspect, name, spy)

import pilotis.core.schema, pilotis.core.alert_rules, pilotis.core.seances, pilotis.core.sensors
from pilotis.plugins import register_builtins
register_builtins()  # every widget and source type's model
at_import = len(calls)
from pilotis.core.jsonschema import dashboard_schema
title = dashboard_schema()["properties"]["title"].get("description")
print(json.dumps({"at_import": at_import, "when_asked": len(calls) - at_import, "title": title}))
"""


def test_importing_the_models_reads_no_source() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_READS_NO_SOURCE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["at_import"] == 0, "a model reads its source at import (use_attribute_docstrings?)"
    assert seen["when_asked"] > 0 and seen["title"] == TITLE  # read on demand, same text


# One hierarchy written twice: `Base` lets pydantic read the docstrings (the old way), or not.
HIERARCHY = '''
from pydantic import ConfigDict, Field
from pilotis.core.schema_base import Strict


class Base(Strict):
    {config}


class Parent(Base):
    """Parent."""

    plain: int = 1
    """Documented
       on two lines,

         one indented."""
    explicit: int = Field(1, description="Explicit wins.")
    """Not this one."""
    undocumented: int = 0
    redeclared: int = 0
    """Parent's text."""
    kept: str = ""
    """Inherited as is."""

    def method(self) -> None:
        """A method's docstring documents nothing."""

    after_method: bool = False
    """After a method."""


class Child(Parent):
    """Child."""

    redeclared: int = 5
    own: list[int] = Field(default_factory=list)
    """Child's own."""

    class Inner(Base):
        """Nested."""

        deep: int = 0
        """Inner's field."""


class Grandchild(Child):
    """Grandchild."""

    explicit: int = 2
    """Now a docstring."""
    kept: str = Field("", description="Explicit now.")
'''


COMPARE = """
import json
import docs_by_pydantic, docs_on_demand
from pilotis.core.field_docs import field_descriptions
names = ("Parent", "Child", "Grandchild", "Child.Inner")
def model(module, name):
    for part in name.split("."):
        module = getattr(module, part)
    return module
print(json.dumps({
    "pydantic": {n: {f: i.description for f, i in model(docs_by_pydantic, n).model_fields.items()} for n in names},
    "on_demand": {n: field_descriptions(model(docs_on_demand, n)) for n in names},
}))
"""


def test_same_descriptions_as_pydantic_reading_the_docstrings(tmp_path: Path) -> None:
    # In a fresh interpreter: these test models must not join the app's Strict models (the reference lists them).
    config = 'model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)'
    for name, base_body in (("docs_by_pydantic", config), ("docs_on_demand", "pass")):
        (tmp_path / f"{name}.py").write_text(HIERARCHY.replace("{config}", base_body), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", COMPARE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["on_demand"] == seen["pydantic"]
    assert seen["on_demand"]["Child.Inner"] == {"deep": "Inner's field."}
    assert seen["on_demand"]["Grandchild"]["plain"] == "Documented\non two lines,\n\n  one indented."
    assert seen["on_demand"]["Grandchild"]["redeclared"] is None  # declared again without a docstring


PYDANTIC_READS_EVERY_MODEL = """
import json
from pydantic import BaseModel
BaseModel.model_config = {**BaseModel.model_config, "use_attribute_docstrings": True}  # the old way, for all
from pilotis.cli.docs import yaml_models
from pilotis.plugins import register_builtins
register_builtins()
models = yaml_models()
print(json.dumps({f"{m.__module__}.{m.__qualname__}": {n: i.description for n, i in m.model_fields.items()}
                  for m in models if m.__module__.split(".")[0] in {"pilotis", "layouts", "data_sources"}}))
"""


def test_every_yaml_model_is_described_as_pydantic_described_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PYDANTIC_READS_EVERY_MODEL], cwd=ROOT, capture_output=True, text=True, check=True
    )
    expected = json.loads(done.stdout.strip().splitlines()[-1])
    register_builtins()
    found = {f"{m.__module__}.{m.__qualname__}": field_descriptions(m) for m in yaml_models()}
    found = {name: value for name, value in found.items() if name.split(".")[0] in APP_PACKAGES}  # not tests'
    assert len(found) > 50 and found == expected
