"""Replaying remembered verdicts on a sample's shape says exactly what running the rules says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dataforge.formats import FORMATS
from dataforge.lint import checks
from dataforge.model import Message, Role, Sample

ROLES = [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL_CALL, Role.OBSERVATION, "narrator"]
FLAGS = [None, True, False, 1, 0, "false"]
_SWAP = {(bool, True): 1, (bool, False): 0, (int, 1): True, (int, 0): False}


@st.composite
def samples(draw):
    n = draw(st.integers(0, 5))
    roles = tuple(draw(st.lists(st.sampled_from(ROLES), min_size=n, max_size=n)))
    contents = tuple(draw(st.lists(st.sampled_from(["hi", "", " ", "ok"]), min_size=n, max_size=n)))
    losses = tuple(draw(st.lists(st.sampled_from(FLAGS), min_size=n, max_size=n)))
    paths = tuple(f"$.conversations[{i}]" for i in range(n))
    extra = {}
    if draw(st.booleans()):
        extra["tools"] = draw(st.sampled_from([[{"name": "f"}], [{"name": "g"}, {"name": "f"}], [], "not a list",
                                               [{"function": {"name": "f"}}], [{"name": 1}]]))
    if draw(st.booleans()):
        extra["names"] = tuple(draw(st.lists(st.sampled_from(["f", "g", None]), min_size=n, max_size=n)))
    if draw(st.booleans()):
        extra["arguments"] = tuple(draw(st.lists(st.sampled_from([{}, {"a": 1}, None, "x"]), min_size=n, max_size=n)))
    if draw(st.integers(0, 5)) == 0:
        extra[draw(st.sampled_from(["chosen", "rejected"]))] = Message(Role.ASSISTANT, "a")
    return Sample(roles, contents, losses, paths, **extra)


def variants(sample: Sample) -> list[Sample]:
    """Samples of the same roles and places that differ in one detail the rules read: a memory
    keyed too loosely would give one of them the other's verdict."""
    n = len(sample.roles)
    return [
        sample._replace(losses=tuple(_SWAP.get((type(f), f), f) for f in sample.losses)),  # 1 == True, 0 == False
        sample._replace(arguments=tuple(None if a is not None else {} for a in sample.arguments or (None,) * n)),
        sample._replace(names=tuple({"f": "g", "g": None, None: "f"}[x] for x in sample.names or (None,) * n)),
        sample._replace(tools=[{"name": "g"}] if sample.tools != [{"name": "g"}] else None),
        sample._replace(contents=("",) * n),
    ]


@settings(max_examples=500, deadline=None)
@given(st.lists(samples(), min_size=1, max_size=4), st.sampled_from(sorted(FORMATS)))
def test_remembered_verdicts_equal_running_the_families(batch, name):
    fmt = FORMATS[name]
    checks._shapes.clear()
    everything = batch + [v for sample in batch for v in variants(sample)]
    for sample in everything + everything:  # the second time round, every shape is remembered
        remembered, ran = [], []
        checks.check_sample(sample, fmt, lambda *f: remembered.append(f))
        checks.run_families(sample, fmt, lambda *f: ran.append(f))
        assert remembered == ran
