"""The `hf` template: masks from generation markers equal transformers' own; without markers
they are found by rendering growing prefixes, and agree with the marked version."""

import pytest

from dataforge.masking.encode import IGNORE
from dataforge.masking.hf_template import chat_messages, encode_hf
from dataforge.masking.tokenizer import TextTokenizer
from tests.masking.test_conformance import SAMPLES as CORPUS_SAMPLES
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


# ChatML with tools, laid out as the qwen template lays them out, with and without markers.
CHATML_TOOLS_WITH_MARKERS = (
    "{%- for message in messages %}"
    "{%- if message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' }}{% generation %}{{- message.content }}"
    "{%- for tc in message.tool_calls or [] %}{%- if message.content or not loop.first %}{{- '\\n' }}{%- endif %}"
    "{{- '<tool_call>\\n' + (tc.function | tojson) + '\\n</tool_call>' }}{%- endfor %}"
    "{{- '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
CHATML_TOOLS_PLAIN = CHATML_TOOLS_WITH_MARKERS.replace("{% generation %}", "").replace("{% endgeneration %}", "")
WITHOUT_FLAGS = sorted(n for n, s in CORPUS_SAMPLES.items() if all(loss is None for loss in s.losses))


@pytest.mark.parametrize("name", WITHOUT_FLAGS)
def test_the_whole_corpus_masks_as_transformers_does(tokenizer, name):
    """With markers: transformers' own mask. Without: the same mask, found by rendering prefixes
    (one assistant turn for text plus calls; the newline after a reply never trained)."""
    sample = CORPUS_SAMPLES[name]
    marked_tok = with_template(tokenizer, CHATML_TOOLS_WITH_MARKERS)
    reference = marked_tok.hf.apply_chat_template(chat_messages(sample), tokenize=True, return_dict=True,
                                                  return_assistant_tokens_mask=True)
    for tok in (marked_tok, with_template(tokenizer, CHATML_TOOLS_PLAIN)):
        encoded, warnings = encode_hf(sample, tok)
        assert list(encoded.input_ids) == list(reference["input_ids"])
        assert [label != IGNORE for label in encoded.labels] == [bool(x) for x in reference["assistant_masks"]]
        assert warnings == []
        ends = [i for i, kind in enumerate(encoded.kinds) if kind == "end"]
        assert {tok.hf.convert_ids_to_tokens(encoded.input_ids[i]) for i in ends} == {"<|im_end|>"}


@pytest.mark.parametrize("template", [CHATML_TOOLS_WITH_MARKERS, CHATML_TOOLS_PLAIN])
def test_loss_flags_are_honoured(tokenizer, template):
    tok = with_template(tokenizer, template)
    encoded, _ = encode_hf(SAMPLES["loss"], tok)
    trained_text = tok.hf.decode([label for label in encoded.labels if label != IGNORE])
    assert trained_text == "hiciao<|im_end|>"  # the flagged user text; not the reply with loss false


def test_preview_tags_the_end_of_turn_so_m003_stays_quiet(tokenizer):
    from dataforge.masking.preview import summarize

    tok = with_template(tokenizer, CHATML_TOOLS_PLAIN)
    encoded, _ = encode_hf(SAMPLES["tool"], tok)
    summary = summarize(encoded, SAMPLES["tool"], None, tok)
    assert summary.end_of_turn_trained and all(trained for _, trained in summary.end_of_turn_trained)
