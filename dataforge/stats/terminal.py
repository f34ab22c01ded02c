"""The figures as the terminal shows them (stats command and the review app's Stats tab)."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text

from dataforge.stats.figures import Figures


def histogram(values, bins: int = 12, width: int = 40) -> Text:
    """Counts of ``values`` in ``bins`` equal ranges, as bars scaled to ``width`` characters."""
    values = np.asarray(values)
    if not len(values):
        return Text("no samples")
    low, high = int(values.min()), int(values.max())
    step = max((high - low) // bins + 1, 1)
    counts = np.bincount(np.minimum((values - low) // step, bins - 1).astype(np.int64), minlength=bins)
    peak = int(counts.max())
    text = Text()
    for i, count in enumerate(counts.tolist()):
        start = low + i * step
        text.append(f"{start:>7,}-{start + step - 1:<7,} ")
        text.append("█" * max(1 if count else 0, round(count / peak * width)), style="cyan")
        text.append(f" {count:,}\n")
    text.rstrip()
    return text


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({part / whole:.1%})" if whole else "0"


def _counts(counter, total: int) -> Text:
    return Text(" · ".join(f"{name} {_share(n, total)}" for name, n in counter.most_common()) or "none")


def _spread(stats: dict) -> Text:
    return Text("  ".join(f"{k} {v:,}" for k, v in stats.items()) if stats else "none")


def new_grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def figures_table(f: Figures, histograms: bool = True, grid: Table | None = None) -> Table:
    """The figures as label/value rows, added to ``grid`` when given (the review app puts its own
    rows first)."""
    grid = grid if grid is not None else new_grid()
    total = f.samples
    grid.add_row("samples", Text(f"{total:,}" + (f" ({f.unreadable:,} unreadable records left out)"
                                                  if f.unreadable else "")))
    grid.add_row("formats", _counts(f.formats, total))
    grid.add_row("kinds", _counts(f.kinds, total))
    grid.add_row("messages", Text(" · ".join(f"{role} {n:,}" for role, n in f.roles.most_common()) or "none"))
    grid.add_row("tool calls", Text(f"in {_share(f.with_tool_calls, total)} samples"))
    grid.add_row("languages", _counts(f.languages, total))
    grid.add_row("user turns", _spread(f.percentiles(f.turns)))
    grid.add_row("characters", _spread(f.percentiles(f.chars)))
    if histograms:
        grid.add_row("", histogram(f.chars))
    t = f.tokens
    if t is not None:
        which = "every sample" if t.counted == total else f"{t.counted:,} samples spread over the {total:,}"
        grid.add_row("tokens", Text(f"{t.template} on {t.tokenizer} ({which})"))
        grid.add_row("  length", _spread(f.percentiles(t.lengths)))
        if histograms:
            grid.add_row("", histogram(t.lengths))
        grid.add_row("  trained", _spread(f.percentiles(t.trained)))
        if t.max_len:
            grid.add_row("  over max", Text(f"{_share(t.over_max, t.counted)} longer than {t.max_len:,} tokens",
                                            style="yellow" if t.over_max else ""))
        grid.add_row("  untrained", Text(f"{_share(t.nothing_trained, t.counted)} with no trained token",
                                         style="bold red" if t.nothing_trained else ""))
    return grid
