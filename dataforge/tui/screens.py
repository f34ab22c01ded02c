"""Modal screens: editing a record (validated as you type) and the help screen."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from dataforge.jsonio.parse import parse


class EditScreen(ModalScreen[dict | None]):
    """Edit one record as JSON; findings update as you type; ctrl+s saves, escape cancels.

    ``check`` is lint's own verdict on one record's text (strict parse included): an edit with a
    duplicate key, NaN or an error finding cannot be saved, so what is saved lints clean of errors.
    """

    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, value, check, text: str | None = None) -> None:
        """``text``: the record's own text, for a record that is not valid JSON (or not an object):
        it is edited as it is, to be mended."""
        super().__init__()
        self.value, self.check = value, check
        self.original = text if text is not None else json.dumps(value, ensure_ascii=False, indent=2)

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-box"):
            yield Static("Edit the record (ctrl+s saves, escape cancels)", classes="title")
            yield TextArea(self.original, language="json", id="editor")
            yield Static("", id="edit-status")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._check()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._check()

    def _findings(self):
        return self.check(self.query_one(TextArea).text)

    def _check(self) -> list:
        findings = self._findings()
        status = self.query_one("#edit-status", Static)
        status.update("✔ no findings" if not findings else
                      "\n".join(f"✘ {f.code} at {f.location.path}: {f.message}" for f in findings[:8]))
        status.set_class(bool(findings), "bad")
        return findings

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_save() if event.button.id == "save" else self.action_cancel()

    def action_save(self) -> None:
        findings = self._check()
        if any(f.severity == "error" for f in findings):
            status = self.query_one("#edit-status", Static)
            status.update("✘ not saved: fix the errors first (escape discards the edit)\n"
                          + "\n".join(f"✘ {f.code} at {f.location.path}: {f.message}" for f in findings[:7]))
            return
        self.dismiss(parse(self.query_one(TextArea).text.encode("utf-8")))

    def action_cancel(self) -> None:
        """Escape leaves an unchanged record at once; with changes, the first escape says so and
        the second discards them."""
        changed = self.query_one(TextArea).text != self.original
        if changed and not self._warned:
            self._warned = True
            status = self.query_one("#edit-status", Static)
            status.update("unsaved changes: ctrl+s saves them, escape again discards them")
            status.set_class(True, "bad")
            return
        self.dismiss(None)

    _warned = False


class AskScreen(ModalScreen[str | None]):
    """One line of input: enter answers, escape gives up."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question)
            yield Input(id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y or enter answers yes, n or escape no."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question + "\n\n(y) yes   (n) no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


HELP = """\
dataforge review app

  1-5          Sources, Review, Tokens, Stats, Export
  ↑ ↓ j k      previous / next sample          PgUp PgDn Home End
  a            accept the sample               r   reject it
  e            edit it (checked as you type)   u   undo the last action
  A / R        accept / reject every shown sample (one u undoes it)
  n            next pending sample             gg / G   first / last sample
  :            go to a record number           o   open a file or folder
  /            filter: status, has findings, edited, text, rule code
  escape       back to the list
  g            generate records from the selected .docx (Sources)
  x            export the accepted samples (Export)
  ctrl+p       command palette: every action by name
  ctrl+t       light / dark theme
  ? or f1      this help          q  quit

In the list: ✔ accepted  ✘ rejected  · pending  ! findings  ✎ edited
Decisions and edits are saved as you make them, in .dataforge/ beside
the dataset; the dataset itself is never rewritten.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="help-box")

    def action_dismiss(self) -> None:
        self.dismiss(None)
