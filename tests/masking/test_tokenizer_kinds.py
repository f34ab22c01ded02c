"""`dataforge preview` and `dataforge lint --tokenizer` on a tokenizer folder of every kind users
load: a fast tokenizer with added special tokens, a sentencepiece model, and a class with its own
code written for an older transformers (loaded only with --trust-remote-code)."""

import json

import pytest

from tests.conftest import SAMPLES
from tests.masking.conftest import marker_tokenizer

DATASETS = sorted((SAMPLES / "datasets").glob("*.jsonl"))


@pytest.fixture(scope="module")
def fast_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fast")
    marker_tokenizer().hf.save_pretrained(str(folder))
    return folder


@pytest.fixture(params=["fast", "sentencepiece", "chatglm"])
def folder_and_flags(request):
    if request.param == "fast":
        return request.getfixturevalue("fast_folder"), ""
    if request.param == "sentencepiece":
        return request.getfixturevalue("sentencepiece_folder"), ""
    return request.getfixturevalue("chatglm_folder"), " --trust-remote-code"


@pytest.mark.parametrize("path", DATASETS, ids=lambda p: p.name)
def test_preview_on_every_kind_of_tokenizer(run_line, folder_and_flags, path):
    folder, flags = folder_and_flags
    result = run_line(f"dataforge preview {path} --tokenizer {folder}{flags} --output-format json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert "Traceback" not in result.stderr
    assert any(token["label"] != -100 for token in shown["tokens"])


def test_lint_with_every_kind_of_tokenizer(run_line, folder_and_flags):
    folder, flags = folder_and_flags
    result = run_line(f"dataforge lint {SAMPLES / 'datasets'} --tokenizer {folder}{flags} --output-format json")
    assert result.exit_code in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    json.loads(result.stdout)


def test_chatglm3_markers_are_single_tokens_with_the_class_that_keeps_them_apart(run_line, chatglm_folder):
    path = SAMPLES / "datasets" / "chatglm3_tools.jsonl"
    result = run_line(f"dataforge preview {path} --tokenizer {chatglm_folder} --trust-remote-code "
                      "--output-format json")
    tokens = json.loads(result.stdout)["tokens"]
    assert [t["text"] for t in tokens[:3]] == ["[gMASK]", "sop", "<|system|>"]
    assert tokens[-1]["text"] == "</s>"
    lint = run_line(f"dataforge lint {path} --tokenizer {chatglm_folder} --trust-remote-code --template chatglm3")
    assert "M005" not in lint.stdout  # every marker is one token of this tokenizer
