"""Label conventions, truncation policies and their reports."""

import pytest

from dataforge.masking.encode import IGNORE, EncodeOptions, encode
from dataforge.templates import TEMPLATES
from dataforge.templates.render import MaskOptions
from tests.masking.conftest import SHOWN, marked
from tests.masking.test_templates import SAMPLES


@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_chatglm3_template_gives_the_reference_labels(tokenizer, case):
    """The reference rule (mask over trained messages, shifted by one) and ours agree exactly."""
    ours = encode(SAMPLES[case], TEMPLATES["chatglm3"], tokenizer, SHOWN)
    reference = encode(SAMPLES[case], TEMPLATES["chatglm3"], tokenizer, EncodeOptions(spans=True, labels="chatglm3"))
    assert ours.labels == reference.labels
    assert reference.convention == "chatglm3"


def test_chatglm3_convention_on_another_template_shifts_the_mask(tokenizer):
    encoded = encode(SAMPLES["single"], TEMPLATES["qwen"], tokenizer, EncodeOptions(spans=True, labels="chatglm3"))
    # the assistant turn's tokens are masked as a whole, one position later: its first token
    # (<|im_start|>) untrained, everything after it trained, up to the token after the turn
    assert marked(encoded) == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>⟦assistant\nhello<|im_end|>\n⟧"


@pytest.mark.parametrize("options, expected", [
    (MaskOptions(train_on_prompt=True),
     "<|im_start|>user\n⟦hi⟧<|im_end|>\n<|im_start|>assistant\n⟦hello<|im_end|>⟧\n"
     "<|im_start|>user\n⟦bye⟧<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n"),
    (MaskOptions(last_turn_only=True),
     "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
     "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n"),
    (MaskOptions(train_end_of_turn=False),
     "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟦hello⟧<|im_end|>\n"
     "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao⟧<|im_end|>\n"),
])
def test_mask_options(tokenizer, options, expected):
    assert marked(encode(SAMPLES["multi"], TEMPLATES["qwen"], tokenizer, EncodeOptions(spans=True, mask=options))) == expected


def test_chatglm3_without_training_the_end_of_turn(tokenizer):
    encoded = encode(SAMPLES["multi"], TEMPLATES["chatglm3"], tokenizer,
                     EncodeOptions(spans=True, mask=MaskOptions(train_end_of_turn=False)))
    assert marked(encoded) == "[gMASK]sop<|user|>\nhi<|assistant|>⟦\nhello⟧<|user|>\nbye<|assistant|>⟦\nciao⟧</s>"


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_truncation_that_removes_every_trained_token_is_reported(tokenizer, template):
    full = encode(SAMPLES["single"], TEMPLATES[template], tokenizer, SHOWN)
    first_trained = next(i for i, label in enumerate(full.labels) if label != IGNORE)
    cut = encode(SAMPLES["single"], TEMPLATES[template], tokenizer, EncodeOptions(spans=True, max_len=first_trained))
    assert len(cut) == first_trained == cut.cut
    assert cut.trained == 0 and cut.trained_before == full.trained > 0
    assert cut.lost_trained == full.trained
    assert cut.input_ids == full.input_ids[:first_trained]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_right_truncation_keeps_the_start(tokenizer, template):
    full = encode(SAMPLES["multi"], TEMPLATES[template], tokenizer, SHOWN)
    cut = encode(SAMPLES["multi"], TEMPLATES[template], tokenizer, EncodeOptions(spans=True, max_len=len(full) - 2))
    assert cut.input_ids == full.input_ids[:-2] and cut.labels == full.labels[:-2]
    assert cut.lost_trained == sum(1 for label in full.labels[-2:] if label != IGNORE)


def test_turns_truncation_drops_the_oldest_turn_whole(tokenizer):
    full = encode(SAMPLES["system"]._replace(), TEMPLATES["qwen"], tokenizer, SHOWN)
    multi = SAMPLES["multi"]
    whole = encode(multi, TEMPLATES["qwen"], tokenizer, SHOWN)
    last_turn = whole.messages.index(2)
    cut = encode(multi, TEMPLATES["qwen"], tokenizer, EncodeOptions(spans=True, max_len=len(whole) - last_turn, truncation="turns"))
    assert marked(cut) == "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n"
    assert cut.cut == 0 and cut.lost_trained == 2
    assert full.trained == 2


def test_budget_truncation_splits_prompt_and_answer(tokenizer):
    sample = SAMPLES["single"]._replace(contents=("one two three four five six seven eight", "a b c d e f g h"))
    full = encode(sample, TEMPLATES["qwen"], tokenizer, SHOWN)
    first_answer = next(i for i, label in enumerate(full.labels) if label != IGNORE)
    cut = encode(sample, TEMPLATES["qwen"], tokenizer, EncodeOptions(spans=True, max_len=12, truncation="budget"))
    assert len(cut) == 12
    assert cut.input_ids[:6] == full.input_ids[:6]  # the prompt's first half of the budget
    assert cut.input_ids[6:] == full.input_ids[first_answer:first_answer + 6]  # then the answer's start
    assert cut.trained == 6
