"""The Export tab: the accepted samples of the dataset under review, to a trainer's folder (the
code `dataforge export` runs) or to one file in any format. It shows where it will write first,
asks before replacing anything, and refuses the dataset's own path and a folder given as a file."""

from __future__ import annotations

import json
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from dataforge.formats import FORMATS
from dataforge.tui.screens import ConfirmScreen

TRAINER_PREFIX = "to:"
# trainers first (a folder each, as `dataforge export` writes), then a plain file in any format
EXPORT_CHOICES = [("LLaMA-Factory folder", "to:llamafactory"), ("Hugging Face datasets folder", "to:hf"),
                  ("OpenAI fine-tuning files", "to:openai"), ("ChatGLM3 demo, multi-turn", "to:chatglm3"),
                  ("ChatGLM3 demo, input-output", "to:chatglm3-io")] + [(f"file: {f}", f) for f in FORMATS]


class ExportPane(Vertical):
    class Requested(Message):
        """The export button was pressed: the app completes the dataset and calls ``export``."""

    def compose(self) -> ComposeResult:
        yield Select(EXPORT_CHOICES, prompt="a file in the dataset's own format", id="export-format")
        yield Input(placeholder="output file (.jsonl or .json), or folder for a trainer", id="export-path")
        yield Button("Export accepted samples", variant="primary", id="export-button")
        yield Static("", id="export-report")

    @on(Button.Pressed, "#export-button")
    def _pressed(self) -> None:
        self.post_message(self.Requested())

    def export(self, opened) -> None:
        from dataforge.collect import Refused
        from dataforge.errors import DataforgeError
        from dataforge.review.export import export_accepted, export_accepted_to

        report_box = self.query_one("#export-report", Static)
        if opened is None or opened.dataset.format is None:
            report_box.update("✘ no dataset to export")
            return
        target = self.query_one("#export-format", Select).value
        target = opened.dataset.format.name if target is Select.NULL else target
        trainer = target.startswith(TRAINER_PREFIX)
        stem = opened.dataset.path.stem
        path = self.query_one("#export-path", Input).value.strip() or str(opened.dataset.path.with_name(
            f"{stem}.{target[len(TRAINER_PREFIX):]}" if trainer else f"{stem}.accepted.{target}.jsonl"))

        def write(confirmed: bool | None = True) -> None:
            if not confirmed:
                report_box.update("not exported: the files were left as they were")
                return
            try:
                if trainer:
                    result = export_accepted_to(opened, target[len(TRAINER_PREFIX):], path, force=True)
                    report_box.update(Text(export_summary(result)))
                    self.notify(f"exported {result.written} samples to {path}")
                    return
                report = export_accepted(opened.dataset, opened.store, target, path)
            except Refused as exc:
                report_box.update(Text("✘ " + exc.message + "\n" + "\n".join(
                    f"  record {f.location.record}: {f.code} {f.message}" for f in exc.findings[:10])))
                return
            except DataforgeError as exc:
                report_box.update(f"✘ {exc.message}")
                return
            report_box.update(Text(json.dumps(report, ensure_ascii=False, indent=2)))
            self.notify(f"exported {report['written']} samples to {path}")

        target_path = Path(path)
        if trainer and target_path.is_dir() and any(target_path.iterdir()):
            self.app.push_screen(ConfirmScreen(f"{path} holds files. Replace the ones this export writes?"), write)
        elif not trainer and target_path.is_file():
            self.app.push_screen(ConfirmScreen(f"{path} exists. Replace it with the accepted samples?"), write)
        else:
            write()


def export_summary(result) -> str:
    lines = [f"wrote {o.records:,} {o.split} sample(s) to {o.file}" for o in result.outputs if o.records]
    if result.skipped:
        lines.append(f"{len(result.skipped):,} left out (the manifest says why)")
    lines += [f"lost in {n:,}: {message}" for message, n in result.lost_counts.most_common(5)]
    lines.append(f"manifest: {result.manifest}")
    if result.config:
        lines += ["", "for the trainer's config:", *(f"  {line}" for line in result.config)]
    return "\n".join(lines)
