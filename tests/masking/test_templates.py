"""Every template, token by token: the rendered text and which tokens are trained (inside ⟦ ⟧),
for a single turn, several turns, a system message, a tool call with its observation, and
`loss` flags that override the defaults. Expectations are written by hand from each model
family's documented layout. The text is tokenized whole, so a token that holds the last
character of a prompt and the first of a reply (" hi", ":ciao") is trained."""

import pytest

from dataforge.masking.encode import encode
from dataforge.model import Message, Role, Sample
from dataforge.templates import TEMPLATES
from tests.masking.conftest import SHOWN, marked


def U(text, loss=None):
    return Message(Role.USER, text, loss)


def A(text, loss=None):
    return Message(Role.ASSISTANT, text, loss)


SAMPLES = {
    "single": Sample.of([U("hi"), A("hello")]),
    "multi": Sample.of([U("hi"), A("hello"), U("bye"), A("ciao")]),
    "system": Sample.of([Message(Role.SYSTEM, "be brief"), U("hi"), A("hello")]),
    "tool": Sample.of([U("weather?"), Message(Role.TOOL_CALL, "", name="get_weather", arguments={"city": "Paris"}),
                       Message(Role.OBSERVATION, "sunny", name="get_weather"), A("sunny")]),
    "loss": Sample.of([U("hi", loss=True), A("hello", loss=False), U("bye"), A("ciao")]),
}
CALL = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
LLAMA3_CALL = '{"name": "get_weather", "parameters": {"city": "Paris"}}'


def llama3(role):
    return f"<|start_header_id|>{role}<|end_header_id|>\n\n"


B3 = "<|begin_of_text|>"
QWEN_SYSTEM = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
ALPACA = ("<s>Below is an instruction that describes a task. "
          "Write a response that appropriately completes the request.\n\n")
YAYI = "<|System|>:\n" + TEMPLATES["yayi"].default_system + "\n\n"
GUANACO = ("A chat between a curious human and an artificial intelligence assistant. "
           "The assistant gives helpful, detailed, and polite answers to the user's questions.\n")

EXPECTED = {
    "qwen": {
        "single": "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟦hello<|im_end|>⟧\n",
        "multi": "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟦hello<|im_end|>⟧\n"
                 "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n",
        "system": "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                  "<|im_start|>assistant\n⟦hello<|im_end|>⟧\n",
        "tool": "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n"
                f"⟦<tool_call>\n{CALL}\n</tool_call><|im_end|>⟧\n"
                "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                "<|im_start|>assistant\n⟦sunny<|im_end|>⟧\n",
        "loss": "<|im_start|>user\n⟦hi⟧<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
                "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n",
    },
    "qwen2.5": {case: QWEN_SYSTEM + text if case != "system" else text for case, text in (
        ("single", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟦hello<|im_end|>⟧\n"),
        ("multi", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n⟦hello<|im_end|>⟧\n"
                  "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n"),
        ("system", "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                   "<|im_start|>assistant\n⟦hello<|im_end|>⟧\n"),
        ("tool", "<|im_start|>user\nweather?<|im_end|>\n<|im_start|>assistant\n"
                 f"⟦<tool_call>\n{CALL}\n</tool_call><|im_end|>⟧\n"
                 "<|im_start|>user\n<tool_response>\nsunny\n</tool_response><|im_end|>\n"
                 "<|im_start|>assistant\n⟦sunny<|im_end|>⟧\n"),
        ("loss", "<|im_start|>user\n⟦hi⟧<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
                 "<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n⟦ciao<|im_end|>⟧\n"),
    )},
    # The reference demo's labels: everything after a trained message's role token, and the token after it.
    "chatglm3": {
        "single": "[gMASK]sop<|user|>\nhi<|assistant|>⟦\nhello</s>⟧",
        "multi": "[gMASK]sop<|user|>\nhi<|assistant|>⟦\nhello<|user|>⟧\nbye<|assistant|>⟦\nciao</s>⟧",
        "system": "[gMASK]sop<|system|>\nbe brief<|user|>\nhi<|assistant|>⟦\nhello</s>⟧",
        "tool": "[gMASK]sop<|user|>\nweather?<|assistant|>⟦get_weather\n```python\ntool_call(city='Paris')\n```"
                "<|observation|>⟧\nsunny<|assistant|>⟦\nsunny</s>⟧",
        # ChatGLM3 never trains a user message, whatever its flag
        "loss": "[gMASK]sop<|user|>\nhi<|assistant|>\nhello<|user|>\nbye<|assistant|>⟦\nciao</s>⟧",
    },
    # The demo's input-output layout: no role tokens; made for one prompt and one response
    "chatglm3-io": {
        "single": "[gMASK]sophi⟦hello</s>⟧",
        "multi": "[gMASK]sophi⟦hello</s>⟧bye⟦ciao</s>⟧",
        "system": "[gMASK]sopbe briefhi⟦hello</s>⟧",
        "tool": f"[gMASK]sopweather?⟦{CALL}</s>⟧Observation: sunny\n⟦sunny</s>⟧",
        "loss": "[gMASK]sophihello</s>bye⟦ciao</s>⟧",
    },
    "llama2": {
        "single": "<s>[INST] hi [/INST]⟦ hello </s>⟧",
        "multi": "<s>[INST] hi [/INST]⟦ hello </s>⟧<s>[INST] bye [/INST]⟦ ciao </s>⟧",
        "system": "<s>[INST] <<SYS>>\nbe brief\n<</SYS>>\n\nhi [/INST]⟦ hello </s>⟧",
        "tool": f"<s>[INST] weather? [/INST]⟦ {CALL} </s>⟧<s>[INST] Observation: sunny [/INST]⟦ sunny </s>⟧",
        # " hi" is one token: it holds a trained character, so it is trained
        "loss": "<s>[INST]⟦ hi⟧ [/INST] hello </s><s>[INST] bye [/INST]⟦ ciao </s>⟧",
    },
    "llama3": {
        "single": f"{B3}{llama3('user')}hi<|eot_id|>{llama3('assistant')}⟦hello<|eot_id|>⟧",
        "multi": f"{B3}{llama3('user')}hi<|eot_id|>{llama3('assistant')}⟦hello<|eot_id|>⟧"
                 f"{llama3('user')}bye<|eot_id|>{llama3('assistant')}⟦ciao<|eot_id|>⟧",
        "system": f"{B3}{llama3('system')}be brief<|eot_id|>{llama3('user')}hi<|eot_id|>"
                  f"{llama3('assistant')}⟦hello<|eot_id|>⟧",
        "tool": f"{B3}{llama3('user')}weather?<|eot_id|>{llama3('assistant')}⟦{LLAMA3_CALL}<|eot_id|>⟧"
                f"{llama3('ipython')}sunny<|eot_id|>{llama3('assistant')}⟦sunny<|eot_id|>⟧",
        "loss": f"{B3}{llama3('user')}⟦hi⟧<|eot_id|>{llama3('assistant')}hello<|eot_id|>"
                f"{llama3('user')}bye<|eot_id|>{llama3('assistant')}⟦ciao<|eot_id|>⟧",
    },
    # EOS only at the end; the user token after a reply is trained, with EOS as its label
    "baichuan2": {
        "single": "<reserved_106>hi<reserved_107>⟦hello</s>⟧",
        "multi": "<reserved_106>hi<reserved_107>⟦hello<reserved_106>⟧bye<reserved_107>⟦ciao</s>⟧",
        "system": "be brief<reserved_106>hi<reserved_107>⟦hello</s>⟧",
        "tool": f"<reserved_106>weather?<reserved_107>⟦{CALL}<reserved_106>⟧Observation: sunny"
                "<reserved_107>⟦sunny</s>⟧",
        "loss": "<reserved_106>hi<reserved_107>hello<reserved_106>bye<reserved_107>⟦ciao</s>⟧",
    },
    "alpaca": {
        "single": ALPACA + "### Instruction:\nhi\n\n### Response:⟦hello</s>⟧\n\n",
        "multi": ALPACA + "### Instruction:\nhi\n\n### Response:⟦hello</s>⟧\n\n"
                          "### Instruction:\nbye\n\n### Response⟦:ciao</s>⟧\n\n",
        "system": "<s>be brief\n\n### Instruction:\nhi\n\n### Response:⟦hello</s>⟧\n\n",
        "tool": ALPACA + f"### Instruction:\nweather?\n\n### Response:⟦{CALL}</s>⟧\n\nObservation: sunny\n"
                         "⟦sunny</s>⟧\n\n",
        "loss": ALPACA + "### Instruction:\n⟦hi⟧\n\n### Response:hello</s>\n\n"
                         "### Instruction:\nbye\n\n### Response⟦:ciao</s>⟧\n\n",
    },
    "linly": {
        "single": "### Instruction:hi  ### Response:⟦hello</s>⟧\n",
        "multi": "### Instruction:hi  ### Response:⟦hello</s>⟧\n### Instruction:bye  ### Response⟦:ciao</s>⟧\n",
        "system": "be brief\n\n### Instruction:hi  ### Response:⟦hello</s>⟧\n",
        "tool": f"### Instruction:weather?  ### Response:⟦{CALL}</s>⟧\nObservation: sunny\n⟦sunny</s>⟧\n",
        "loss": "### Instruction:⟦hi⟧  ### Response:hello</s>\n### Instruction:bye  ### Response⟦:ciao</s>⟧\n",
    },
    "nous": {
        "single": "### Instruction:\nhi\n\n### Response:\n⟦hello</s>⟧\n\n",
        "multi": "### Instruction:\nhi\n\n### Response:\n⟦hello</s>⟧\n\n"
                 "### Instruction:\nbye\n\n### Response:\n⟦ciao</s>⟧\n\n",
        "system": "be brief\n\n### Instruction:\nhi\n\n### Response:\n⟦hello</s>⟧\n\n",
        "tool": f"### Instruction:\nweather?\n\n### Response:\n⟦{CALL}</s>⟧\n\nObservation: sunny\n⟦sunny</s>⟧\n\n",
        "loss": "### Instruction:\n⟦hi⟧\n\n### Response:\nhello</s>\n\n### Instruction:\nbye\n\n### Response:\n⟦ciao</s>⟧\n\n",
    },
    "yayi": {
        "single": YAYI + "<|Human|>:\nhi\n\n<|YaYi|>:\n⟦hello</s>⟧\n\n",
        "multi": YAYI + "<|Human|>:\nhi\n\n<|YaYi|>:\n⟦hello</s>⟧\n\n<|Human|>:\nbye\n\n<|YaYi|>:\n⟦ciao</s>⟧\n\n",
        "system": "<|System|>:\nbe brief\n\n<|Human|>:\nhi\n\n<|YaYi|>:\n⟦hello</s>⟧\n\n",
        "tool": YAYI + f"<|Human|>:\nweather?\n\n<|YaYi|>:\n⟦{CALL}</s>⟧\n\n<|Human|>:\nObservation: sunny\n\n"
                      "<|YaYi|>:\n⟦sunny</s>⟧\n\n",
        "loss": YAYI + "<|Human|>:\n⟦hi⟧\n\n<|YaYi|>:\nhello</s>\n\n<|Human|>:\nbye\n\n<|YaYi|>:\n⟦ciao</s>⟧\n\n",
    },
    "stablebeluga": {
        "single": "### User:\nhi\n\n### Assistant:\n⟦hello</s>⟧\n\n",
        "multi": "### User:\nhi\n\n### Assistant:\n⟦hello</s>⟧\n\n### User:\nbye\n\n### Assistant:\n⟦ciao</s>⟧\n\n",
        "system": "### System:\nbe brief\n\n### User:\nhi\n\n### Assistant:\n⟦hello</s>⟧\n\n",
        "tool": f"### User:\nweather?\n\n### Assistant:\n⟦{CALL}</s>⟧\n\n### User:\nObservation: sunny\n\n"
                "### Assistant:\n⟦sunny</s>⟧\n\n",
        "loss": "### User:\n⟦hi⟧\n\n### Assistant:\nhello</s>\n\n### User:\nbye\n\n### Assistant:\n⟦ciao</s>⟧\n\n",
    },
    "guanaco": {
        "single": GUANACO + "### Human: hi ### Assistant:⟦ hello</s>⟧ ",
        "multi": GUANACO + "### Human: hi ### Assistant:⟦ hello</s>⟧ ### Human: bye ### Assistant:⟦ ciao</s>⟧ ",
        "system": "be brief\n### Human: hi ### Assistant:⟦ hello</s>⟧ ",
        "tool": GUANACO + f"### Human: weather? ### Assistant:⟦ {CALL}</s>⟧ ### Human: Observation: sunny "
                          "### Assistant:⟦ sunny</s>⟧ ",
        "loss": GUANACO + "### Human:⟦ hi⟧ ### Assistant: hello</s> ### Human: bye ### Assistant:⟦ ciao</s>⟧ ",
    },
}


def test_every_template_has_expectations():
    assert set(EXPECTED) == set(TEMPLATES)


@pytest.mark.parametrize("template", sorted(EXPECTED))
@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_rendering_and_mask(tokenizer, template, case):
    encoded = encode(SAMPLES[case], TEMPLATES[template], tokenizer, SHOWN)
    assert marked(encoded) == EXPECTED[template][case]
    assert encoded.text == EXPECTED[template][case].replace("⟦", "").replace("⟧", "")


def test_qwen_single_turn_token_by_token(tokenizer):
    encoded = encode(SAMPLES["single"], TEMPLATES["qwen"], tokenizer, SHOWN)
    tokens = [(encoded.text[a:b], label != -100, role) for (a, b), label, role in
              zip(encoded.spans, encoded.labels, encoded.roles)]
    assert tokens == [("<|im_start|>", False, "user"), ("user", False, "user"), ("\n", False, "user"),
                      ("hi", False, "user"), ("<|im_end|>", False, "user"), ("\n", False, "user"),
                      ("<|im_start|>", False, "assistant"), ("assistant", False, "assistant"),
                      ("\n", False, "assistant"), ("hello", True, "assistant"), ("<|im_end|>", True, "assistant"),
                      ("\n", False, "assistant")]
    assert [label for label in encoded.labels if label != -100] == [
        tokenizer.hf.convert_tokens_to_ids("hello"), tokenizer.hf.convert_tokens_to_ids("<|im_end|>")]


def test_alpaca_with_input(tokenizer):
    from dataforge.formats import FORMATS

    sample = FORMATS["alpaca"].read({"instruction": "Say hi", "input": "to Bob", "output": "Hi Bob"}, [])
    encoded = encode(sample, TEMPLATES["alpaca"], tokenizer, SHOWN)
    assert marked(encoded) == (
        "<s>Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\nSay hi\n\n### Input:\nto Bob\n\n### Response:⟦Hi Bob</s>⟧\n\n")
