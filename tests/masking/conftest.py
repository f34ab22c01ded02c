"""A real tokenizer for masking tests: the built-in Qwen BPE plus every template's markers and
<s>/</s> as special tokens, so each marker is one token and expectations read naturally."""

import pytest

from dataforge.masking.encode import EncodeOptions
from dataforge.masking.tokenizer import TextTokenizer, load_tokenizer
from dataforge.templates import TEMPLATES

SHOWN = EncodeOptions(spans=True)  # the token texts are compared, so spans are needed


@pytest.fixture(scope="session")
def tokenizer() -> TextTokenizer:
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
