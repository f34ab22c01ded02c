"""Reports with plots: a PNG of the distributions, or one self-contained HTML page (plots as
inline SVG, the figures as tables) to attach to a pull request or open in a browser.

matplotlib draws them (its Agg back end: no display needed); it is imported only here.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np

from dataforge import __version__
from dataforge.jsonio.write import atomic_writer
from dataforge.stats.figures import Figures


def _plots(f: Figures):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("Characters per sample", f.chars, None), ("User turns per sample", f.turns, None)]
    if f.tokens is not None:
        panels.insert(1, (f"Tokens per sample ({f.tokens.template})", f.tokens.lengths, f.tokens.max_len))
        panels.insert(2, ("Trained tokens per sample", f.tokens.trained, None))
    bars = [("Messages by role", f.roles), ("Languages", f.languages), ("Kinds", f.kinds)]
    rows = (len(panels) + len(bars) + 1) // 2
    fig, axes = plt.subplots(rows, 2, figsize=(11, 3.2 * rows), squeeze=False)
    cells = iter(axes.flat)
    for title, values, limit in panels:
        ax = next(cells)
        if len(values):
            span = int(np.ptp(values)) + 1
            # a bar per whole number when there are few (turns), else 40 ranges
            bins = np.arange(values.min(), values.max() + 2) - 0.5 if span <= 40 else 40
            ax.hist(values, bins=bins, color="#3b82f6")
        if limit:
            ax.axvline(limit, color="#dc2626", linestyle="--", label=f"max length {limit:,}")
            ax.legend()
        ax.set_title(title)
        ax.set_ylabel("samples")
    for title, counter in bars:
        ax = next(cells)
        names, counts = zip(*counter.most_common()) if counter else ((), ())
        ax.barh(list(names)[::-1], list(counts)[::-1], color="#10b981")
        ax.set_title(title)
    for ax in cells:
        ax.set_visible(False)
    fig.suptitle(f"dataforge stats: {f.samples:,} samples")
    fig.tight_layout()
    return fig, plt


def write_png(f: Figures, path: str | Path) -> None:
    fig, plt = _plots(f)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    with atomic_writer(Path(path)) as out:
        out.write(buffer.getvalue())


def write_html(f: Figures, path: str | Path, sources: list[str]) -> None:
    fig, plt = _plots(f)
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # the XML prologue has no place inside HTML
    rows = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(text)}</td></tr>"
                   for label, text in _rows("", f.as_dict()))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>dataforge stats</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}}
th{{text-align:left;padding-right:1.5em;vertical-align:top}}td{{font-family:ui-monospace,monospace}}
svg{{max-width:100%;height:auto}}</style></head><body>
<h1>dataforge stats</h1>
<p>{f.samples:,} samples from {html.escape(", ".join(sources))}; made by dataforge {__version__}.</p>
<table>{rows}</table>
{svg}
</body></html>
"""
    with atomic_writer(Path(path)) as out:
        out.write(page.encode())


def _rows(prefix: str, figures: dict):
    """(label, text) per figure; a group of figures (the token ones) gets a row per member."""
    for key, value in figures.items():
        label = f"{prefix}{key.replace('_', ' ')}"
        if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
            yield from _rows(label + ": ", value)
        elif isinstance(value, dict):
            yield label, "  ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in value.items())
        else:
            yield label, f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
