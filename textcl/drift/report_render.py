"""The drift report's Markdown and HTML pages, from a list of plots and tables.

Every string is escaped: HTML-escaped in the page (terms and tweets may hold HTML), and
in Markdown as entities, with pipes and brackets backslash-escaped.
"""

from __future__ import annotations

import base64
import html
from typing import Any, NamedTuple

__all__ = ["Block", "Plot", "Table", "render_html", "render_md"]

SHORT_CELL = 20  # HTML table cells up to this long are not wrapped


class Plot(NamedTuple):
    """A PNG plot: its caption, file name (beside the report) and bytes."""

    caption: str
    name: str
    data: bytes


class Table(NamedTuple):
    """A table of strings under a heading."""

    heading: str
    header: list[str]
    rows: list[list[str]]
    collapsed: bool = False  # HTML: folded into a <details> element


Block = Plot | Table


def _md(s: str) -> str:
    """A Markdown table cell or caption: no pipes, line breaks or raw HTML."""
    s = html.escape(s, quote=False).replace("|", "\\|").replace("\n", " ")
    return s.replace("[", "\\[").replace("]", "\\]")


def render_md(title: str, result: dict[str, Any], blocks: list[Block]) -> str:
    """``report.md``: the plots (as files beside it) and tables in order."""
    lines = [f"# {_md(title)}", "", f"Mode: `{result.get('mode')}`", ""]
    for block in blocks:
        if isinstance(block, Plot):
            lines += [f"![{_md(block.caption)}]({block.name})", ""]
            continue
        lines += [f"## {_md(block.heading)}", ""]
        lines.append("| " + " | ".join(_md(h) for h in block.header) + " |")
        lines.append("|" + "---|" * len(block.header))
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in block.rows]
        lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font-family:sans-serif;margin:2em auto;max-width:1240px;padding:0 1em}"
    "table{border-collapse:collapse;margin-bottom:1.5em;font-size:0.9em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4}figure{margin:1.5em 0}"
    "img{max-width:100%;display:block}figcaption{color:#555;font-size:0.9em}"
    "td.n{white-space:nowrap}summary{cursor:pointer;font-weight:bold;margin:0.5em 0}"
)


def _html_cell(text: str) -> str:
    """A table cell; short ones (numbers, dates) are never wrapped."""
    short = ' class="n"' if len(text) <= SHORT_CELL else ""
    return f"<td{short}>{html.escape(text)}</td>"


def _html_table(block: Table) -> list[str]:
    e = html.escape
    parts = [
        "<table><thead><tr>"
        + "".join(f"<th>{e(h)}</th>" for h in block.header)
        + "</tr></thead><tbody>"
    ]
    parts += ["<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in block.rows]
    parts.append("</tbody></table>")
    if block.collapsed:
        return [
            f"<details><summary>{e(block.heading)} ({len(block.rows)} rows)</summary>",
            *parts,
            "</details>",
        ]
    return [f"<h2>{e(block.heading)}</h2>", *parts]


def render_html(title: str, result: dict[str, Any], blocks: list[Block]) -> str:
    """``report.html``: self-contained, the plots embedded as data URIs."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>Mode: <code>{e(str(result.get('mode')))}</code></p>",
    ]
    for block in blocks:
        if isinstance(block, Table):
            parts += _html_table(block)
            continue
        uri = "data:image/png;base64," + base64.b64encode(block.data).decode("ascii")
        parts.append(f'<figure><img alt="{e(block.caption)}" src="{uri}">')
        parts.append(f"<figcaption>{e(block.caption)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)
