"""Markdown written in YAML, turned into Dash html components on the server.

``dcc.Markdown`` loads a 67 kB lazy chunk (its parser) on every page that shows a text; parsed
here once, a text is a handful of ``html.P`` / ``html.Ul`` / ``html.Strong`` components and the
browser downloads no parser (issue 12: ≤ 700 kB of JavaScript for a dashboard).

CommonMark (markdown-it-py) with GitHub's tables and strikethrough, as ``dcc.Markdown`` read
them. Raw HTML is not allowed: it is shown as text. Links go through markdown-it's URL check
(a ``javascript:``, ``vbscript:``, ``file:`` or non-image ``data:`` address makes no link: the
source is shown as text).
"""

from __future__ import annotations

from typing import Any

from dash import html
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

_CONTAINERS: dict[str, Any] = {
    "paragraph": html.P,
    "bullet_list": html.Ul,
    "list_item": html.Li,
    "blockquote": html.Blockquote,
    "strong": html.Strong,
    "em": html.Em,
    "s": html.S,
    "table": html.Table,
    "thead": html.Thead,
    "tbody": html.Tbody,
    "tr": html.Tr,
}
_HEADINGS: dict[str, Any] = {"h1": html.H1, "h2": html.H2, "h3": html.H3, "h4": html.H4, "h5": html.H5, "h6": html.H6}


def markdown_components(text: str) -> list[Any]:
    """``text`` (Markdown) as a list of Dash components and strings."""
    return _children(SyntaxTreeNode(_PARSER.parse(text)))


def _children(node: SyntaxTreeNode) -> list[Any]:
    out: list[Any] = []
    for child in node.children:
        converted = _convert(child)
        if isinstance(converted, list):
            out.extend(converted)
        elif converted is not None and converted != "":
            out.append(converted)
    return out


def _plain(node: SyntaxTreeNode) -> str:
    """The text inside ``node`` (an image's alternative text)."""
    if node.type in ("text", "code_inline"):
        return node.content
    return "".join(_plain(child) for child in node.children)


def _convert(node: SyntaxTreeNode) -> Any:  # noqa: PLR0911, C901 - one branch per kind of node
    kind = node.type
    if kind == "text":
        return node.content
    if kind == "softbreak":
        return "\n"
    if kind == "hardbreak":
        return html.Br()
    if kind == "inline" or (kind == "paragraph" and node.hidden):
        return _children(node)  # a tight list's paragraphs: their text, without <p>
    if kind == "code_inline":
        return html.Code(node.content)
    if kind in ("fence", "code_block"):
        return html.Pre(html.Code(node.content))
    if kind == "hr":
        return html.Hr()
    if kind == "heading":
        return _HEADINGS[node.tag](_children(node))
    if kind == "ordered_list":
        start = node.attrs.get("start")
        return html.Ol(_children(node), start=str(start)) if start not in (None, 1) else html.Ol(_children(node))
    if kind == "link":
        title = node.attrs.get("title")
        extra: dict[str, Any] = {"title": str(title)} if title else {}
        return html.A(_children(node), href=str(node.attrs.get("href", "")), **extra)
    if kind == "image":
        return html.Img(src=str(node.attrs.get("src", "")), alt=_plain(node))
    if kind in ("th", "td"):
        style = str(node.attrs.get("style", ""))  # "text-align:right" from the alignment row
        align = {"textAlign": style.partition(":")[2]} if style.startswith("text-align:") else None
        cell = html.Th if kind == "th" else html.Td
        return cell(_children(node), style=align) if align else cell(_children(node))
    if kind in _CONTAINERS:
        return _CONTAINERS[kind](_children(node))
    return _children(node)  # anything else: its content, never dropped silently
