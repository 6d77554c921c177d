"""``report.html``: one self-contained page per run (configuration, results beside the baselines, training curves, task
plots, gate heatmaps), images embedded as base64 PNG, no script, readable offline in any browser."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rnnlab.checkpoint import atomic_write_text

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9rem; }
td, th { padding: 0.25rem 0.7rem; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.model td { font-weight: 600; } figure { margin: 1rem 0; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #555; } pre { background: #f7f7f7; padding: 0.8rem; overflow-x: auto; }
"""


@dataclass
class Report:
    """The parts of a run's report; :meth:`write` renders them."""

    title: str  # e.g. "forecast: electricity, lstm"
    config: dict[str, Any] = field(default_factory=dict)  # shown as JSON
    tables: list[tuple[str, list[str], list[list[Any]], set[int]]] = field(default_factory=list)
    figures: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG)
    notes: list[str] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (caption, preformatted text): samples, outputs
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (caption, HTML built by rnnlab with escaped text)

    def table(self, caption: str, header: list[str], rows: list[list[Any]], highlight: set[int] | None = None) -> None:
        """A table; rows whose index is in ``highlight`` are bold (the models beside the baselines)."""
        self.tables.append((caption, header, rows, highlight or set()))

    def figure(self, caption: str, png: bytes) -> None:
        self.figures.append((caption, png))

    def text(self, caption: str, body: str) -> None:
        """A block of text shown as is (line breaks kept): a generated sample, translations."""
        self.texts.append((caption, body))

    def markup(self, caption: str, body: str) -> None:
        """A block of HTML that the caller built, every piece of data in it escaped (tagged sentences, errors
        marked)."""
        self.blocks.append((caption, body))

    def render(self) -> str:
        parts = [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{html.escape(self.title)}</h1>",
            f"<p>written by rnnlab on {datetime.now():%Y-%m-%d %H:%M}</p>",
        ]
        parts += [f"<p>{html.escape(note)}</p>" for note in self.notes]
        for caption, header, rows, highlight in self.tables:
            parts.append(f"<h2>{html.escape(caption)}</h2><table><tr>")
            parts += [f"<th>{html.escape(h)}</th>" for h in header]
            parts.append("</tr>")
            for index, row in enumerate(rows):
                parts.append('<tr class="model">' if index in highlight else "<tr>")
                parts += [_cell(value) for value in row]
                parts.append("</tr>")
            parts.append("</table>")
        for caption, png in self.figures:
            data = base64.b64encode(png).decode("ascii")
            parts.append(
                f'<h2>{html.escape(caption)}</h2><figure><img alt="{html.escape(caption)}" '
                f'src="data:image/png;base64,{data}"></figure>'
            )
        for caption, body in self.texts:
            parts.append(f"<h2>{html.escape(caption)}</h2><pre>{html.escape(body)}</pre>")
        for caption, body in self.blocks:
            parts.append(f"<h2>{html.escape(caption)}</h2>{body}")
        if self.config:
            parts.append("<h2>configuration</h2><pre>")
            parts.append(html.escape(json.dumps(self.config, indent=2, default=str)))
            parts.append("</pre>")
        parts.append("</body></html>")
        return "\n".join(parts)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        atomic_write_text(path, self.render())
        return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.4g}</td>'
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    return f"<td>{html.escape('' if value is None else str(value))}</td>"
