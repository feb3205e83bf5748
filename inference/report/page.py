"""The report page: one self-contained HTML file (inline style, SVG and data: images, no
script, and a Content-Security-Policy that would block one), pieces that escape every
value, and its atomic write."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import create_temp

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
POLICY_META = '<meta http-equiv="Content-Security-Policy" content="{policy}">'
STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;
text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
.chart{width:100%;max-width:640px;font-size:11px}.bar{fill:#4a78b5}.band{fill:#f4d58d;opacity:.6}
.mark{stroke:#c0392b;stroke-width:2}.axis{stroke:#555}.map{width:100%;border:1px solid #ccc}
.sea{fill:#dfeaf5}.land{fill:#c9c4b4}.ok{fill:#1f5fa8}.failed{fill:#d62728}
.grid{display:flex;flex-wrap:wrap;gap:8px}.thumb{width:136px;font-size:11px;word-break:break-all}
.thumb img,.thumb .none{width:128px;height:128px;display:block;background:#eee}
.note{color:#666}code{font-size:12px}figure{margin:0}
"""


def cell(value: Any, limit: int = 200) -> str:
    """A value as escaped table text (None empty, floats short, long text cut)."""
    if value is None:
        return ""
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return escape(text if len(text) <= limit else text[:limit] + "…")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]],
          ids: Sequence[str | None] = ()) -> str:
    """A table; a number is right-aligned; `ids[i]` names row i's last cell (tests and
    readers find counts by it)."""
    head = "".join(f"<th>{escape(name)}</th>" for name in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            name = ids[i] if i < len(ids) and ids[i] and j == len(row) - 1 else None
            attrs = (' class="n"' if number else "") + (f' id="{escape(name)}"' if name else "")
            text = f"{value:,}" if isinstance(value, int) and number else cell(value)
            cells.append(f"<td{attrs}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def errors_table(counts: Mapping[str, int], examples: Mapping[str, str]) -> str:
    """Error kinds, the most frequent first, each with its count and an example."""
    if not counts:
        return '<p class="note" id="errors-none">No errors.</p>'
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return table(["kind", "example", "count"],
                 [[kind, examples.get(kind, ""), count] for kind, count in ranked],
                 [f"error-{i}" for i in range(len(ranked))])


def section(title: str, *parts: str) -> str:
    """A titled section holding HTML `parts` (already escaped)."""
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def note(text: str) -> str:
    """A short escaped remark."""
    return f'<p class="note">{escape(text)}</p>'


def document(title: str, sections: Sequence[str]) -> str:
    """The whole page."""
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            + POLICY_META.format(policy=POLICY) +
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1>{''.join(sections)}</body></html>\n")


def write_page(path: str | os.PathLike, text: str) -> None:
    """Write the page to `path` atomically (a temporary file renamed into place)."""
    path = Path(path)
    fd, temp = create_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write the report ({exc.strerror or exc})") from None
