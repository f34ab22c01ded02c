"""The main screens at a fixed size (120x36), compared with the SVGs under __snapshots__/.

After an intended change to the layout: pytest tests/tui/test_snapshots.py --snapshot-update,
then look at the new SVGs before committing them.
"""

import shutil

import pytest

from dataforge.tui.app import DataforgeApp
from tests.conftest import SAMPLES
from tests.tui.test_app import settle

SIZE = (120, 36)


@pytest.fixture
def app(tmp_path, monkeypatch):
    shutil.copytree(SAMPLES / "generated", tmp_path / "generated")
    shutil.copytree(SAMPLES / "docs", tmp_path / "docs")
    monkeypatch.chdir(tmp_path)  # relative paths on screen, whatever the machine
    return DataforgeApp(["generated/onboarding_en.alpaca.jsonl", "docs/onboarding_en.docx"])


def screen(keys: tuple[str, ...]):
    async def run_before(pilot) -> None:
        await settle(pilot, pilot.app)
        await pilot.press(*keys)
        await settle(pilot, pilot.app)
    return run_before


@pytest.mark.parametrize("name, keys", [
    ("review", ("a", "r")),
    ("sources", ("1",)),
    ("tokens", ("3",)),
    ("stats", ("4",)),
    ("export", ("5",)),
    ("help", ("question_mark",)),
])
def test_screen(snap_compare, app, name, keys):
    assert snap_compare(app, terminal_size=SIZE, run_before=screen(keys))
