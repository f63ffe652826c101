"""Markdown widgets are built as html components on the server (no Markdown parser shipped to the
browser): what a reader of the « À savoir » texts gets."""

from __future__ import annotations

from typing import Any

from pilotis.ui.markdown import markdown_components


def shape(node: Any) -> Any:
    """A component tree as (type, children, props) tuples and strings, for comparison."""
    if isinstance(node, list):
        return [shape(n) for n in node]
    if isinstance(node, str):
        return node
    props = {k: v for k, v in node.to_plotly_json()["props"].items() if k != "children"}
    return (type(node).__name__, shape(getattr(node, "children", None) or []), props)


def test_paragraphs_bold_and_tight_lists() -> None:
    text = "**Données simulées.** Les effectifs\nsont générés.\n\n- **Effectif** : un stock\n- ETP\n"
    assert shape(markdown_components(text)) == [
        ("P", [("Strong", ["Données simulées."], {}), " Les effectifs", "\n", "sont générés."], {}),
        ("Ul", [("Li", [("Strong", ["Effectif"], {}), " : un stock"], {}), ("Li", ["ETP"], {})], {}),
    ]


def test_links_headings_numbered_lists_and_tables() -> None:
    text = '## Sources\n\n3. [INSEE](https://www.insee.fr "site")\n4. b\n\n| a | n |\n|:--|--:|\n| x | 1 |\n'
    assert shape(markdown_components(text)) == [
        ("H2", ["Sources"], {}),
        (
            "Ol",
            [("Li", [("A", ["INSEE"], {"href": "https://www.insee.fr", "title": "site"})], {}), ("Li", ["b"], {})],
            {"start": "3"},
        ),
        (
            "Table",
            [
                (
                    "Thead",
                    [
                        (
                            "Tr",
                            [
                                ("Th", ["a"], {"style": {"textAlign": "left"}}),
                                ("Th", ["n"], {"style": {"textAlign": "right"}}),
                            ],
                            {},
                        )
                    ],
                    {},
                ),
                (
                    "Tbody",
                    [
                        (
                            "Tr",
                            [
                                ("Td", ["x"], {"style": {"textAlign": "left"}}),
                                ("Td", ["1"], {"style": {"textAlign": "right"}}),
                            ],
                            {},
                        )
                    ],
                    {},
                ),
            ],
            {},
        ),
    ]


def test_raw_html_and_script_links_stay_text() -> None:
    """No HTML in a Markdown widget: it is shown as typed, and a javascript: address makes no link."""
    text = "<img src=x onerror=alert(1)> [clic](javascript:alert(1))"
    assert shape(markdown_components(text)) == [("P", [text], {})]
