import pytest

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
        monkeypatch.setattr(locate_module, "record_spans", None)
    elif locate_module.record_spans is None:
        pytest.skip("the C speedups are not built here")
    assert locate(TEXT, path) == expected


def test_escaped_keys_are_compared_by_what_they_say():
    text = b'{"a\\u0062": {"x": 1}, "ab": {"x": 2}, "q\\"": 3}'
    assert locate(text, "$.ab.x") == (0, 19)  # the first key that says "ab", written with an escape
    assert locate(text, '$[\'q"\']') == (0, 46)


def test_path_steps():
    assert path_steps("$.a[3]['b c'].d") == ["a", 3, "b c", "d"]
