"""Fuzzing: whatever the YAML, the loader reports a ConfigError, never another exception.

Random text, and mutations of the shipped RSA dashboard (lines deleted, duplicated, swapped,
re-indented, values replaced by odd scalars), go through the real :func:`load_registry`.
Measures and formulas get the same treatment with :func:`parse_measure` and :func:`parse_formula`.
Example counts are bounded so that the file runs in well under 30 seconds; the Hypothesis database
is disabled (no files written).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_sources.files import ParquetSource
from pilotis.core.errors import ConfigError
from pilotis.core.expressions import MAX_DEPTH, MAX_OPERATORS
from pilotis.core.indicators import evaluate, parse_formula, refs_of
from pilotis.core.loader import load_registry
from pilotis.core.measures import MeasureError, columns_of, parse_measure, to_sql
from pilotis.core.settings import ROOT
from pilotis.core.yamlmarks import parse_yaml

RSA_TEXT = (ROOT / "dashboards" / "rsa.yaml").read_text(encoding="utf-8")
SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def fuzz_root() -> Iterator[Path]:
    """A config with only the RSA datasets, and a dashboards folder rewritten by each example.

    The datasets are the shipped ones, with their CSV files turned into Parquet copies (same
    ids, columns and types): reading a Parquet schema is ~10 times cheaper than sniffing a CSV,
    so more examples fit in the time budget. Only the dashboard is fuzzed.
    """
    with tempfile.TemporaryDirectory(prefix="pilotis-fuzz-") as name:
        root = Path(name)
        (root / "config" / "datasets").mkdir(parents=True)
        (root / "dashboards").mkdir()
        (root / "data").mkdir()
        for path in (ROOT / "config").glob("*.yaml"):
            if path.name != "referents.yaml":  # it names every theme and dashboard, not only the RSA ones
                shutil.copy(path, root / "config" / path.name)
        for name_ in ("solidarites.yaml", "territoire.yaml"):
            shutil.copy(ROOT / "config" / "datasets" / name_, root / "config" / "datasets" / name_)
        (root / "config" / "indicators").mkdir()
        for name_ in ("rsa.yaml", "territoire.yaml"):  # the indicators rsa.yaml uses
            source_file = ROOT / "config" / "indicators" / name_
            if source_file.exists():
                shutil.copy(source_file, root / "config" / "indicators" / name_)
        shutil.copy(ROOT / "dashboards" / "rsa.py", root / "dashboards" / "rsa.py")
        shutil.copy(ROOT / "dashboards" / "rsa.yaml", root / "dashboards" / "rsa.yaml")
        registry = load_registry(ROOT, root / "config", root / "dashboards")
        allowed = set(ParquetSource.Config.model_fields)
        for name_ in ("solidarites.yaml", "territoire.yaml"):
            path = root / "config" / "datasets" / name_
            specs = yaml.safe_load(path.read_text(encoding="utf-8"))
            for dataset_id, spec in specs.items():
                source = registry.datasets[dataset_id]
                if spec.get("type") == "parquet" or not hasattr(source, "view"):
                    continue
                target = root / "data" / f"{dataset_id}.parquet"
                # the file as the source reads it (its view is built at the first query, and a
                # restart answers `schema()` from the columns remembered in the instance folder)
                source.duck.connection().execute(
                    f"COPY (SELECT * FROM {source.relation_sql()}) TO '{target}' (FORMAT parquet)"
                )
                spec = {k: v for k, v in spec.items() if k in allowed}
                specs[dataset_id] = {**spec, "type": "parquet", "path": str(target)}
            path.write_text(yaml.safe_dump(specs, allow_unicode=True, sort_keys=False), "utf-8")
        load_registry(ROOT, root / "config", root / "dashboards")  # still valid
        yield root


def load_only_config_errors(root: Path, text: str, name: str = "rsa.yaml") -> None:
    """Write ``text`` as a dashboard and load: success or ConfigError, nothing else."""
    (root / "dashboards" / name).write_text(text, encoding="utf-8")
    try:
        load_registry(ROOT, root / "config", root / "dashboards")
    except ConfigError as exc:
        assert exc.issues, "a ConfigError always says what is wrong"
        for issue in exc.issues:
            assert issue.line >= 1 and issue.col >= 1
            assert issue.message
        exc.report()


# --------------------------------------------------------------------------- mutations of rsa.yaml

ODD_SCALARS = [
    "",
    "~",
    "null",
    "0",
    "-1",
    "13",
    "1e400",
    ".nan",
    "true",
    "no",
    "[]",
    "{}",
    "[a, [b]]",
    "{a: {b: c}}",
    "'quoted'",
    '"unterminated',
    "*alias",
    "&anchor x",
    "!!python/object:os.system x",
    "!custom 1",
    "2020-13-45",
    "2020-01-01",
    "sum(",
    "sum(foyers_allocataires) / 0",
    "count(*)",
    "avg foyers",
    "((((((sum(a))))))",
    "- item",
    "a: b: c",
    "|\n  bloc",
    ">-",
    "@",
    "`x`",
    "%x",
    "<<: *x",
    "\t",
    "é",
    "\u202f",
    "x" * 300,
    "RSA Obs",
    "/login",
    "5 minutes",
    "public",
    "kpi",
    "custom",
    "table",
    "choropleth",
    "rsa_communes",
    "aide_sociale",
    "communes",
    "taux_pour_1000",
    "departement",
    "code_insee",
    "periode",
    "[kpi]",
    "[rsa_communes]",
]
KEYS = [
    "id",
    "type",
    "title",
    "dataset",
    "measure",
    "measures",
    "x",
    "color",
    "group_by",
    "where",
    "level",
    "function",
    "text",
    "width",
    "period",
    "territory",
    "filters",
    "access",
    "path",
    "refresh",
    "widgets",
    "<<",
    "? [a]",
    "1",
    "true",
]

lines_of = RSA_TEXT.splitlines()


@st.composite
def mutated_dashboard(draw: st.DrawFn) -> str:
    lines = list(lines_of)
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(
            st.sampled_from(
                [
                    "delete",
                    "duplicate",
                    "swap",
                    "indent",
                    "dedent",
                    "value",
                    "key",
                    "insert",
                    "truncate",
                    "tab",
                ]
            )
        )
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = " " * draw(st.integers(1, 4)) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][draw(st.integers(1, 4)) :]
        elif op == "value" and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {draw(st.sampled_from(ODD_SCALARS) | st.text(max_size=20))}"
        elif op == "key" and ":" in lines[i]:
            indent = len(lines[i]) - len(lines[i].lstrip(" -"))
            lines[i] = lines[i][:indent] + draw(st.sampled_from(KEYS)) + ":" + lines[i].split(":", 1)[1]
        elif op == "insert":
            lines.insert(i, draw(st.sampled_from(ODD_SCALARS) | st.text(max_size=30)))
        elif op == "truncate":
            lines = lines[:i]
        elif op == "tab":
            lines[i] = lines[i].replace("  ", "\t", 1)
    return "\n".join(lines) + "\n"


@settings(SETTINGS, max_examples=60)
@given(text=mutated_dashboard())
def test_mutated_dashboard_gives_config_error_only(fuzz_root: Path, text: str) -> None:
    load_only_config_errors(fuzz_root, text)


@settings(SETTINGS, max_examples=25)
@given(text=st.text(max_size=300))
def test_random_text_dashboard_gives_config_error_only(fuzz_root: Path, text: str) -> None:
    load_only_config_errors(fuzz_root, text)


YAMLISH = st.text(alphabet=st.sampled_from(list("ab:-[]{},'\"&*!|>#%@`\t\n ?<=~0123456789")), max_size=80)


@settings(SETTINGS, max_examples=400)
@given(text=st.one_of(st.text(max_size=200), YAMLISH))
def test_parse_yaml_never_raises(text: str) -> None:
    doc, issues = parse_yaml(text, "x.yaml")
    assert doc is not None or issues
    for issue in issues:
        assert issue.line >= 1 and issue.col >= 1 and issue.message


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [*x]\n",  # recursive alias
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
        "a:\n  <<: 1\n",  # merge of a scalar
        "a: &m {<<: *m}\n",
        "[" * 2000 + "]" * 2000,  # deep nesting
        "a: !!binary x\n",
        "? [a, b]\n: c\n",
        "a: 1\n---\nb: 2\n",
        "a: \x00\n",
    ],
    ids=[
        "recursive-alias",
        "alias-bomb",
        "merge-scalar",
        "recursive-merge",
        "deep-nesting",
        "bad-binary",
        "complex-key",
        "two-documents",
        "nul-character",
    ],
)
def test_pathological_yaml_is_reported(text: str) -> None:
    doc, issues = parse_yaml(text, "x.yaml")
    assert issues, doc


def test_pathological_yaml_in_a_dashboard(fuzz_root: Path) -> None:
    for text in (
        "a: &x [*x]\n",
        "widgets: &w [{<<: *w}]\n",
        "id: rsa\ntitle: x\nwidgets: [[[]]]\n",
        "id: rsa\ntitle: x\nwidgets:\n  - type: [kpi]\n    id: a\n",
        "id: rsa\ntitle: x\nwidgets:\n  - {id: a, type: kpi, dataset: [x], measure: 1}\n",
    ):
        load_only_config_errors(fuzz_root, text)


# --------------------------------------------------------------------------- measures

TOKENS = [
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "count_distinct",
    "SUM",
    "total",
    "(",
    ")",
    "*",
    "/",
    "+",
    "-",
    " ",
    "foyers",
    "a",
    "b_1",
    "1",
    "2.5",
    "0",
    ".",
    ",",
    "%",
    "é",
    "\n",
]


@settings(SETTINGS, max_examples=600)
@given(text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=25).map("".join)))
def test_parse_measure_raises_only_measure_error(text: str) -> None:
    try:
        node = parse_measure(text)
    except MeasureError as exc:
        assert str(exc)
        assert isinstance(exc.hint, str)
        return
    table = sa.table("t", *(sa.column(c) for c in columns_of(node)))
    sa.select(to_sql(node, table)).compile()  # a parsed measure always compiles


def test_deeply_nested_measure_is_a_measure_error() -> None:
    with pytest.raises(MeasureError):
        parse_measure("(" * 5000 + "sum(a)" + ")" * 5000)


FORMULA_TOKENS = [t for t in TOKENS if t not in ("sum", "avg", "SUM")] + ["rsa.a", "territoire.population", "x.y.z"]


@settings(SETTINGS, max_examples=400)
@given(text=st.one_of(st.text(max_size=60), st.lists(st.sampled_from(FORMULA_TOKENS), max_size=25).map("".join)))
def test_parse_formula_raises_only_measure_error(text: str) -> None:
    try:
        expr = parse_formula(text)
    except MeasureError as exc:
        assert str(exc) and isinstance(exc.hint, str)
        assert 0 <= exc.pos <= len(text.strip())
        return
    assert evaluate(expr, lambda _id: 2.0) is None or isinstance(evaluate(expr, lambda _id: 2.0), float)


@pytest.mark.parametrize("terms", [2_000, 20_000])
def test_flat_and_deep_expressions_are_refused_alike_never_a_recursion_error(terms: int) -> None:
    """Measures and formulas share one parser: same bounds, same messages, no RecursionError."""
    flat_measure = " + ".join(["sum(a)"] * terms)
    flat_formula = " + ".join(["rsa.a"] * terms)
    for parser, text in ((parse_measure, flat_measure), (parse_formula, flat_formula)):
        with pytest.raises(MeasureError, match="trop longue"):
            parser(text)
    for parser, atom in ((parse_measure, "sum(a)"), (parse_formula, "rsa.a")):
        with pytest.raises(MeasureError, match="trop imbriquée"):
            parser("(" * terms + atom + ")" * terms)


def test_longest_accepted_measure_compiles_and_walks() -> None:
    """The bounds leave room for the recursive walkers (SQL compilation, evaluation)."""
    nested = "(" * MAX_DEPTH + " / ".join(["sum(a)"] * (MAX_OPERATORS + 1)) + ")" * MAX_DEPTH
    node = parse_measure(nested)
    table = sa.table("t", sa.column("a"))
    assert "sum" in str(sa.select(to_sql(node, table)).compile())
    assert columns_of(node) == {"a"}
    formula = parse_formula("(" * MAX_DEPTH + " - ".join(["rsa.a"] * (MAX_OPERATORS + 1)) + ")" * MAX_DEPTH)
    assert refs_of(formula) == ["rsa.a"]
    assert evaluate(formula, lambda _id: 1.0) == -float(MAX_OPERATORS - 1)


@pytest.mark.parametrize(
    ("parser", "text"),
    [(parse_measure, "sum(a) * 1,5"), (parse_formula, "rsa.a * 1,5")],
)
def test_decimal_comma_is_refused_by_both_languages_with_a_hint(parser: object, text: str) -> None:
    with pytest.raises(MeasureError) as info:
        parser(text)  # type: ignore[operator]
    assert "virgule décimale dans `1,5`" in str(info.value)
    assert info.value.hint == "écrivez le nombre avec un point : `1.5`"
    assert info.value.pos == text.index(",")


def test_errors_say_where_in_the_expression() -> None:
    with pytest.raises(MeasureError) as info:
        parse_measure("sum(a) + % 2")
    assert info.value.pos == 9 and "(position 10)" in str(info.value)
    with pytest.raises(MeasureError) as info:
        parse_formula("rsa.a rsa.b")
    assert info.value.pos == 6 and "(position 7)" in str(info.value)


def test_very_deep_nesting_does_not_crash_the_process(tmp_path: Path) -> None:
    """libyaml recurses on the C stack: a very deep document must not reach it (segfault).

    Run in a child process, so that a regression fails this test instead of killing pytest.
    """
    import subprocess
    import sys

    texts = {"brackets": "[" * 200_000, "dashes": "- " * 200_000 + "x", "braces": "{a: " * 100_000}
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from pilotis.core.yamlmarks import read_yaml\n"
        "for name in sys.argv[1:]:\n"
        "    doc, issues = read_yaml(Path(name), name)\n"
        "    print(issues[0].message)\n"
    )
    paths = [str(tmp_path / f"{name}.yaml") for name in texts]
    result = subprocess.run([sys.executable, "-c", code, *paths], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-500:]
    assert len(result.stdout.splitlines()) == len(texts)


def test_a_long_expression_is_quoted_shortened_in_its_message() -> None:
    text = "sum(a) + " * 50 + "%"
    with pytest.raises(MeasureError) as info:
        parse_measure(text)
    assert len(str(info.value)) < 200 and "…" in str(info.value)
    assert info.value.pos == len(text) - 1 and f"(position {len(text)})" in str(info.value)
