import pytest

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
def test_locate_points_at_the_value(path, expected):
    assert locate(TEXT, path) == expected


def test_path_steps():
    assert path_steps("$.a[3]['b c'].d") == ["a", 3, "b c", "d"]
