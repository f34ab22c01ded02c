import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dataforge.jsonio import locate as locate_module
from dataforge.jsonio.locate import locate, path_steps

TEXT = '{"conversations": [\n  {"role": "你", "content": "x"},\n  {"role": "human", "odd key": [1, {"b": 2}]}]}'.encode()


@pytest.mark.parametrize("path, expected", [
    ("$", (0, 1)),
    ("$.conversations[1].role", (2, 12)),
    ("$.conversations[0].content", (1, 28)),  # columns count characters, not bytes
    ("$.conversations[1]['odd key'][1].b", (2, 42)),
    ("$.conversations[1].loss", (2, 3)),  # missing: the nearest parent that exists
    ("$.conversations[7]", (0, 19)),
])
@pytest.mark.parametrize("scan", ["compiled", "python"])
def test_locate_points_at_the_value(path, expected, scan, monkeypatch):
    if scan == "python":
        monkeypatch.setattr(locate_module, "path_offset", None)
    elif locate_module.path_offset is None:
        pytest.skip("the C speedups are not built here")
    assert locate(TEXT, path) == expected


def test_escaped_keys_are_compared_by_what_they_say():
    text = b'{"a\\u0062": {"x": 1}, "ab": {"x": 2}, "q\\"": 3}'
    assert locate(text, "$.ab.x") == (0, 19)  # the first key that says "ab", written with an escape
    assert locate(text, '$[\'q"\']') == (0, 46)


def test_path_steps():
    assert path_steps("$.a[3]['b c'].d") == ["a", 3, "b c", "d"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(alphabet='ab"\\:,[]{} 中', max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "a\"", "中"]),
                                                                      children, max_size=3),
    max_leaves=12)
steps = st.lists(st.one_of(st.sampled_from(["a", "b", "c", "a\"", "中"]), st.integers(0, 3)), max_size=4)


@pytest.mark.skipif(locate_module.path_offset is None, reason="the C speedups are not built here")
@settings(max_examples=500, deadline=None)
@given(json_values, steps, st.sampled_from([None, 0, 2]), st.booleans())
def test_compiled_walk_finds_what_the_python_walk_finds(value, path, indent, ascii_only):
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only).encode()
    offset = locate_module.path_offset(text, tuple(path))
    if offset >= 0:  # -1: an escaped key on the way, left to Python
        assert offset == locate_module._descend(text, locate_module._skip(text, 0), tuple(path))
    if b"\\" not in text:
        assert offset >= 0  # with no escape anywhere, the compiled walk always answers
