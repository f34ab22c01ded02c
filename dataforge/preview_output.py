"""Lay out a mask preview for the terminal (a rich table), for machines (JSON), or as the
ChatGLM3 demo's "Sanity Check" listing. The data comes from dataforge.masking.preview."""

from __future__ import annotations

import json
import os
from typing import TextIO

from dataforge.masking.preview import Summary, TokenRow

TRAINED_STYLE = "bold green"


def table(rows: list[TokenRow], summary: Summary, header: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # rich honours NO_COLOR itself; the ✔ column keeps trained tokens visible without colour.
    console = Console(file=out, no_color="NO_COLOR" in os.environ, highlight=False, markup=False)
    console.print(header, soft_wrap=True)
    grid = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for name, justify in (("#", "right"), ("token", "left"), ("id", "right"), ("label", "right"),
                          ("role", "left"), ("turn", "right"), ("", "left")):
        grid.add_column(name, justify=justify, no_wrap=True, overflow="fold" if name == "token" else "ellipsis")
    def cut_rule() -> None:
        grid.add_section()
        grid.add_row("", f"── cut by truncation: {summary.length_before - summary.tokens} tokens removed ──",
                     "", "", "", "", "", style="bold red")
        grid.add_section()

    for row in rows:
        if summary.cut is not None and row.index == summary.cut:
            cut_rule()
        style = TRAINED_STYLE if row.trained else "dim"
        # Text, not str: a token such as "[g" must never be read as rich markup
        grid.add_row(str(row.index), Text(row.text), str(row.token_id), str(row.label), row.role,
                     "" if row.message < 0 else str(row.message), "✔" if row.trained else "", style=style)
    if summary.cut is not None and summary.cut >= len(rows):
        cut_rule()
    console.print(grid)
    console.print()
    for line in summary_lines(summary):
        console.print(line, soft_wrap=True)


def summary_lines(summary: Summary) -> list[str]:
    lines = [f"tokens {summary.tokens}, trained {summary.trained} ({summary.ratio:.1%})"]
    if summary.length_before != summary.tokens:
        lost = summary.trained_before - summary.trained
        lines.append(f"truncation removed {summary.length_before - summary.tokens} tokens, "
                     f"{lost} of them trained")
    if summary.trained == 0:
        lines.append("NOTHING IS TRAINED in this sample: it would only cost compute (loss 0 or NaN)")
    per_turn = ", ".join(f"{t.message}:{t.role} {t.trained}/{t.tokens}" for t in summary.turns if t.message >= 0)
    lines.append(f"per turn (trained/tokens): {per_turn}")
    ends = summary.end_of_turn_trained
    if ends:
        untrained = [m for m, ok in ends if not ok]
        lines.append("end of turn trained: " + ("yes, every reply" if not untrained
                                                  else "NO for turn " + ", ".join(map(str, untrained))))
    lines.extend(f"note: {note}" for note in summary.notes)
    return lines


def as_json(rows: list[TokenRow], summary: Summary, meta: dict, out: TextIO) -> None:
    data = {
        **meta,
        # text: as shown (whitespace visible, pieces of a character as their bytes); raw: the
        # characters the token covers
        "tokens": [{"index": r.index, "text": r.text, "raw": r.raw, "id": r.token_id, "label": r.label, "role": r.role,
                    "message": r.message, "kind": r.kind} for r in rows],
        "summary": {"tokens": summary.tokens, "trained": summary.trained, "ratio": round(summary.ratio, 4),
                    "length_before_truncation": summary.length_before,
                    "trained_before_truncation": summary.trained_before, "cut": summary.cut,
                    "turns": [{"message": t.message, "role": t.role, "tokens": t.tokens, "trained": t.trained}
                              for t in summary.turns],
                    "end_of_turn_trained": dict(summary.end_of_turn_trained), "notes": list(summary.notes)},
    }
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


def sanity(rows: list[TokenRow], out: TextIO) -> None:
    """The ChatGLM3 fine-tuning demo's listing: one `'text': id -> label` line per token."""
    out.write("Sanity Check >>>>>>>>>>>>>\n")
    for row in rows:
        out.write(f"{row.raw!r}: {row.token_id} -> {row.label}\n")
    out.write("<<<<<<<<<<<<< Sanity Check\n")
