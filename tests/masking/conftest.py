"""Real tokenizers for masking tests: the built-in Qwen BPE plus every template's markers and
<s>/</s> as special tokens (each marker one token, so expectations read naturally), and folders
of the other kinds users load: a sentencepiece model, and a class with its own code."""

import json
import shutil
from pathlib import Path

import pytest

from dataforge.masking.encode import EncodeOptions
from dataforge.masking.tokenizer import TextTokenizer, load_tokenizer
from dataforge.templates import TEMPLATES

SHOWN = EncodeOptions(spans=True)  # the token texts are compared, so spans are needed


@pytest.fixture(scope="session")
def tokenizer() -> TextTokenizer:
    return marker_tokenizer()


def marker_tokenizer() -> TextTokenizer:
    from transformers import PreTrainedTokenizerFast

    base = load_tokenizer()
    hf = PreTrainedTokenizerFast(tokenizer_object=base.hf.backend_tokenizer.__class__.from_str(
        base.hf.backend_tokenizer.to_str()))
    markers = sorted({m for t in TEMPLATES.values() for m in t.control_tokens} | {"<|im_start|>", "<|im_end|>"})
    hf.add_special_tokens({"bos_token": "<s>", "eos_token": "</s>", "additional_special_tokens": markers})
    return TextTokenizer("test", hf)


def marked(encoded) -> str:
    """The encoded text with every run of trained tokens inside ⟦ ⟧."""
    out, inside = [], False
    for (a, b), label in zip(encoded.spans, encoded.labels):
        trained = label != -100
        if trained != inside:
            out.append("⟦" if trained else "⟧")
            inside = trained
        out.append(encoded.text[a:b])
    if inside:
        out.append("⟧")
    return "".join(out)


# Text the sentencepiece test models are trained on: the shapes the conformance corpus holds.
SP_CORPUS = ["退货政策：签收后七天内可以无理由退货。天气很好，北京晴。", "Hello, world!  Two spaces, tabs\tand\nnewlines\r\n",
             "people say hi to the weather in Paris; the assistant answers briefly.", "def f(x):\n    return x ** 2",
             '{"city": "Paris", "temp": 3}', "get_weather tool_call(city='北京') ```python", "Observation: sunny 🙂"]


def train_sentencepiece(folder: Path) -> Path:
    """A Llama-style sentencepiece BPE model trained here, offline (no normalisation, bytes for
    unknown characters, digits split), as Llama-2, Baichuan2 and ChatGLM3 ship theirs."""
    import sentencepiece as spm

    text = folder / "corpus.txt"
    text.write_text("\n".join(SP_CORPUS * 20), encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(folder / "tokenizer"), vocab_size=600,
                                   character_coverage=1.0, model_type="bpe", bos_id=1, eos_id=2, unk_id=0,
                                   normalization_rule_name="identity", remove_extra_whitespaces=False,
                                   byte_fallback=True, split_digits=True, minloglevel=2)
    text.unlink()
    return folder / "tokenizer.model"


@pytest.fixture(scope="session")
def sentencepiece_folder(tmp_path_factory) -> Path:
    """A sentencepiece tokenizer folder laid out as Llama-2 checkpoints ship it, with every
    template's markers as added special tokens (as each model family's own tokenizer has its own)."""
    folder = tmp_path_factory.mktemp("sentencepiece")
    train_sentencepiece(folder)
    markers = sorted({m for t in TEMPLATES.values() for m in t.control_tokens})
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
         "additional_special_tokens": markers}))
    return folder


@pytest.fixture(scope="session")
def chatglm_folder(tmp_path_factory) -> Path:
    """A folder laid out as ChatGLM3 ships its tokenizer: its own class (legacy_tokenizer/, written
    for transformers 4.x), registered through auto_map, loadable only with --trust-remote-code."""
    folder = tmp_path_factory.mktemp("chatglm")
    train_sentencepiece(folder)
    shutil.copy(Path(__file__).parent / "legacy_tokenizer" / "tokenization_chatglm.py", folder)
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"tokenizer_class": "ChatGLMTokenizer", "padding_side": "left",
         "auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLMTokenizer", None]}}))
    return folder
