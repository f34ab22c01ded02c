"""The review app's tabs, one pane each: Sources, Review, Tokens, Stats, Export. A pane owns its
widgets and its workers; what one pane needs from another goes through the app as a message."""

from __future__ import annotations

from textual.widgets import Select


def choose_first(options: list[tuple[str, str]], prompt: str, id: str) -> Select:
    """A Select with its first option chosen; an empty one when there is none (panes share it)."""
    if options:
        return Select(options, prompt=prompt, id=id, allow_blank=False, value=options[0][1])
    return Select(options, prompt=prompt, id=id)
