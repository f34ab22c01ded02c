"""The `hf` template: masks from generation markers equal transformers' own; without markers
they are found by rendering growing prefixes, and agree with the marked version."""

import pytest

from dataforge.masking.encode import IGNORE
from dataforge.masking.hf_template import chat_messages, encode_hf
from dataforge.masking.tokenizer import TextTokenizer
from tests.masking.test_templates import SAMPLES

CHATML_WITH_MARKERS = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\\n' }}{% else %}{{ message['content'] + '<|im_end|>\\n' }}{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
CHATML_PLAIN = CHATML_WITH_MARKERS.replace("{% generation %}", "").replace("{% endgeneration %}", "")


def with_template(tokenizer, template: str) -> TextTokenizer:
    import copy

    hf = copy.deepcopy(tokenizer.hf)
    hf.chat_template = template
    return TextTokenizer("chatml", hf)


@pytest.mark.parametrize("case", ["single", "multi", "system"])
def test_generation_markers_give_transformers_mask(tokenizer, case):
    tok = with_template(tokenizer, CHATML_WITH_MARKERS)
    encoded, warnings = encode_hf(SAMPLES[case], tok)
    reference = tok.hf.apply_chat_template(chat_messages(SAMPLES[case]), tokenize=True, return_dict=True,
                                           return_assistant_tokens_mask=True)
    assert list(encoded.input_ids) == list(reference["input_ids"])
    assert [label != IGNORE for label in encoded.labels] == [bool(x) for x in reference["assistant_masks"]]
    assert any(reference["assistant_masks"]) and warnings == []


@pytest.mark.parametrize("case", ["single", "multi", "system"])
def test_without_markers_the_mask_is_found_by_rendering_prefixes(tokenizer, case):
    marked_tok = with_template(tokenizer, CHATML_WITH_MARKERS)
    plain_tok = with_template(tokenizer, CHATML_PLAIN)
    reference = marked_tok.hf.apply_chat_template(chat_messages(SAMPLES[case]), tokenize=True, return_dict=True,
                                                  return_assistant_tokens_mask=True)
    encoded, warnings = encode_hf(SAMPLES[case], plain_tok)
    assert list(encoded.input_ids) == list(reference["input_ids"])
    assert [label != IGNORE for label in encoded.labels] == [bool(x) for x in reference["assistant_masks"]]
    assert warnings == []


def test_a_template_that_rewrites_history_is_warned_about(tokenizer):
    # renders the last assistant turn differently from earlier ones: prefixes do not line up
    odd = ("{% for message in messages %}{% if loop.last %}[LAST]{% endif %}"
           "{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}")
    encoded, warnings = encode_hf(SAMPLES["multi"], with_template(tokenizer, odd))
    assert warnings and "cannot be told apart" in warnings[0]
