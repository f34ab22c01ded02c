"""Replaying remembered verdicts on a sample's shape says exactly what running the rules says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dataforge.formats import FORMATS
from dataforge.lint import checks
from dataforge.model import Role, Sample

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
    extra = draw(st.sampled_from([{}, {"tools": [{"name": "f"}]}, {"names": ("f",) * n, "arguments": ({},) * n},
                                  {"chosen": None}]))
    return Sample(roles, contents, losses, paths, **extra)


@settings(max_examples=500, deadline=None)
@given(st.lists(samples(), min_size=1, max_size=6), st.sampled_from(sorted(FORMATS)))
def test_remembered_verdicts_equal_running_the_families(batch, name):
    fmt = FORMATS[name]
    checks._shapes.clear()
    # Twins that compare equal to the originals but are not: 1 == True and 0 == False.
    twins = [s._replace(losses=tuple(_SWAP.get((type(f), f), f) for f in s.losses)) for s in batch]
    for sample in batch + twins + batch:  # by the end, every shape is remembered
        remembered, ran = [], []
        checks.check_sample(sample, fmt, lambda *f: remembered.append(f))
        checks.run_families(sample, fmt, lambda *f: ran.append(f))
        assert remembered == ran
