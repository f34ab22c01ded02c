"""What the export tests share: the samples as dataforge reads them, and the view of a sample
every trainer must end up with (roles, texts, tool calls), independent of any writer."""

from __future__ import annotations

import json

import pytest

from dataforge.collect import collect
from dataforge.model import Role, Sample
from tests.conftest import SAMPLES

DATASETS = SAMPLES / "datasets"


@pytest.fixture(scope="session")
def shipped():
    """Every sample of samples/datasets, read as lint reads them."""
    return collect([str(DATASETS)]).samples


def arguments(value) -> object:
    """Tool-call arguments as the object they hold (a JSON string or the object itself)."""
    return json.loads(value) if isinstance(value, str) else value


def turns(sample: Sample) -> list[tuple[str, object]]:
    """(role, content) per message; a tool call's content is {name, arguments} as objects."""
    out = []
    for m in sample.messages:
        if m.role == Role.TOOL_CALL:
            out.append((m.role, {"name": m.name, "arguments": arguments(m.arguments)}))
        else:
            out.append((m.role, m.content))
    return out
