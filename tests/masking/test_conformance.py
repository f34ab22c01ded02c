"""Conformance: every built-in template over a corpus of conversations, on tokenizers of every
kind, against references restated here.

- Templates that tokenize the rendered text whole: the ids equal the tokenizer's own encoding of
  the rendered string (what an inference server does with the same layout), and a token is
  trained exactly when it covers a trained character.
- chatglm3 and chatglm3-io: ids and labels equal ChatGLM3's fine-tuning demo, restated below
  (multi-turn dataset with tools; input-output dataset), on the test class that behaves like
  ChatGLM3's own tokenizer and on a fast tokenizer.
- baichuan2: ids and labels equal Baichuan2's fine-tune.py preprocessing, restated below.
- qwen2.5 and llama3: the rendered text equals the model's own Jinja chat template (restated here)
  rendered by transformers.
"""

from __future__ import annotations

import ast
import copy
import json

import pytest

from dataforge.formats import FORMATS
from dataforge.masking.encode import IGNORE, EncodeOptions, encode, encode_many
from dataforge.masking.hf_template import chat_messages
from dataforge.masking.tokenizer import TextTokenizer, load_tokenizer
from dataforge.templates import TEMPLATES
from dataforge.templates.render import render

TOOLS = [{"name": "get_weather", "description": "天气 / weather", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}}, "required": ["city"]}}]


def call(name, parameters, observation, loss=None):
    message = {"role": "tool", "name": name, "parameters": parameters, "observation": observation}
    if loss is not None:
        message["loss"] = loss
    return message


def msg(role, content, loss=None):
    return {"role": role, "content": content} | ({"loss": loss} if loss is not None else {})


# ChatGLM3 records: the demo consumes them raw, dataforge through its chatglm3 reader.
CORPUS = {
    "single-en": {"conversations": [msg("user", "What is the return window?"),
                                    msg("assistant", "Seven days after delivery.")]},
    "multi-zh": {"conversations": [msg("user", "退货政策是什么？"), msg("assistant", "签收后七天内可以无理由退货。"),
                                   msg("user", "运费谁出？"), msg("assistant", "质量问题由我们承担运费。")]},
    "system": {"conversations": [msg("system", "Answer briefly."), msg("user", "hi"), msg("assistant", "hello")]},
    "tool": {"tools": TOOLS, "conversations": [
        msg("user", "北京天气？"), call("get_weather", {"city": "北京"}, {"temp": 3, "sky": "晴"}),
        msg("assistant", "北京 3 度，晴。")]},
    "parallel-calls": {"tools": TOOLS, "conversations": [
        msg("user", "Weather in Paris and Rome?"), call("get_weather", {"city": "Paris"}, "sunny"),
        call("get_weather", {"city": "Rome"}, "rain"), msg("assistant", "Paris is sunny; Rome has rain.")]},
    "text-then-call": {"tools": TOOLS, "conversations": [
        msg("user", "Paris?"), msg("assistant", "Let me check."), call("get_weather", {"city": "Paris"}, "sunny"),
        msg("assistant", "Sunny.")]},
    "loss-flags": {"conversations": [
        msg("system", "Be kind.", loss=True), msg("user", "hi", loss=True), msg("assistant", "hello", loss=False),
        msg("user", "weather?"), call("get_weather", {"city": "Oslo"}, "snow", loss=False), msg("assistant", "Snow.")]},
    "empty": {"conversations": [msg("user", ""), msg("assistant", ""), msg("user", "again"), msg("assistant", "ok")]},
    "whitespace": {"conversations": [msg("user", "  leading and trailing  \n"), msg("assistant", "\n\nanswer \n")]},
    "crlf-tabs": {"conversations": [msg("user", "line one\r\nline two\r\n\tindented"),
                                    msg("assistant", "col1\tcol2\r\nrow\t2\r\n")]},
    "mixed": {"conversations": [msg("user", "people say 'sop' and eop; 人们说 hi 🙂"),
                                msg("assistant", "Yes: people, sop, eop. 是的。")]},
}
SAMPLES = {name: FORMATS["chatglm3"].read(record, []) for name, record in CORPUS.items()}
PIECES = {name for name, t in TEMPLATES.items() if t.pieces}
WHOLE = sorted(set(TEMPLATES) - PIECES)
# The demo would make two system messages of tools plus a system message; no record here has both.
assert not any("tools" in r and r["conversations"][0]["role"] == "system" for r in CORPUS.values())


@pytest.fixture(scope="module")
def sentencepiece(sentencepiece_folder) -> TextTokenizer:
    return load_tokenizer(str(sentencepiece_folder))


@pytest.fixture(scope="module")
def chatglm(chatglm_folder) -> TextTokenizer:
    return load_tokenizer(str(chatglm_folder), trust_remote_code=True)


# -- templates tokenized whole ------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["tokenizer", "sentencepiece"])
@pytest.mark.parametrize("template", WHOLE)
def test_ids_are_the_whole_text_encoding_and_labels_follow_characters(request, kind, template):
    tok = request.getfixturevalue(kind)
    names = sorted(SAMPLES)
    encoded = encode_many([SAMPLES[n] for n in names], TEMPLATES[template], tok, EncodeOptions(spans=True))
    for name, enc in zip(names, encoded):
        segments = render(SAMPLES[name], TEMPLATES[template], eos=tok.eos, bos=tok.bos)
        text = "".join(s.text for s in segments)
        reference = tok.hf(text, add_special_tokens=False, return_offsets_mapping=True)
        assert list(enc.input_ids) == reference["input_ids"], name
        trained_chars, position = [], 0
        for seg in segments:
            trained_chars += [seg.trained] * len(seg.text)
            position += len(seg.text)
        expected = [tid if any(trained_chars[a:b]) else IGNORE
                    for tid, (a, b) in zip(reference["input_ids"], reference["offset_mapping"])]
        assert list(enc.labels) == expected, name
        assert enc.text == text


def test_one_encoding_path_for_one_or_many(tokenizer):
    """Batches large enough to be tokenized ahead on a second thread give the same result."""
    samples = [SAMPLES[n] for n in sorted(SAMPLES)] * 60
    many = encode_many(samples, TEMPLATES["qwen"], tokenizer)
    assert many == [encode(s, TEMPLATES["qwen"], tokenizer) for s in samples]


# -- ChatGLM3's fine-tuning demo, restated ----------------------------------------------------

TOOL_DEFINITION_PREFIX = "Answer the following questions as best as you can. You have access to the following tools:\n"


class DemoTokenizer:
    """What the demo calls on its tokenizer: the class's own methods when it has them (the
    ChatGLM3-like class), else the same operations on an ordinary tokenizer."""

    def __init__(self, tok: TextTokenizer):
        self.hf = tok.hf

    def command(self, token):
        if hasattr(self.hf, "get_command"):
            return self.hf.get_command(token)
        return self.hf.convert_tokens_to_ids(token)

    def encode(self, text):
        if hasattr(self.hf, "tokenizer"):
            return self.hf.tokenizer.encode(text)  # the class's sentencepiece, as build_single_message uses
        return self.hf.encode(text, add_special_tokens=False)

    def build_single_message(self, role, metadata, message):
        return [self.command(f"<|{role}|>")] + self.encode(f"{metadata}\n") + self.encode(message)


def demo_multi_turn(record: dict, tok: DemoTokenizer) -> tuple[list[int], list[int]]:
    """The demo's format_conversation and labels: a loss mask per message, shifted right by one."""
    conversations = copy.deepcopy(record["conversations"])
    tokens, loss_masks = [tok.command("[gMASK]"), tok.command("sop")], [0, 0]

    def update(new, value):
        tokens.extend(new)
        loss_masks.extend([int(value)] * len(new))

    if "tools" in record:
        conversations.insert(0, {"role": "system", "content": TOOL_DEFINITION_PREFIX + json.dumps(
            record["tools"], indent=4, ensure_ascii=False)})
    for conv in conversations:
        loss = conv.get("loss", True)
        if conv["role"] in {"system", "user"}:
            loss = False
        if conv["role"] == "tool":
            keywords = [ast.keyword(arg=k, value=ast.Constant(v)) for k, v in conv["parameters"].items()]
            value = "```python\n" + ast.unparse(ast.Call(func=ast.Name(id="tool_call"), args=[], keywords=keywords)) \
                + "\n```"
            update(tok.build_single_message("assistant", conv["name"], value), loss)
            observation = conv.get("observation")
            if not isinstance(observation, str):
                observation = json.dumps(observation, ensure_ascii=False)
            update(tok.build_single_message("observation", "", observation), False)
        else:
            update(tok.build_single_message(conv["role"], "", conv["content"]), loss)
    update([tok.hf.eos_token_id], False)
    target_mask = [0] + loss_masks[:-1]
    return tokens, [t if m else IGNORE for t, m in zip(tokens, target_mask)]


def demo_input_output(record: dict, tok: DemoTokenizer) -> tuple[list[int], list[int]]:
    """The demo's InputOutputDataset: [gMASK] sop + prompt, response, EOS; labels on the response."""
    a_ids = [tok.command("[gMASK]"), tok.command("sop")] + tok.encode(record["prompt"])
    b_ids = tok.encode(record["response"])
    eos = tok.hf.eos_token_id
    return a_ids + b_ids + [eos], [IGNORE] * len(a_ids) + b_ids + [eos]


@pytest.mark.parametrize("kind", ["chatglm", "tokenizer"])
def test_chatglm3_equals_the_fine_tuning_demo(request, kind):
    tok = request.getfixturevalue(kind)
    names = sorted(CORPUS)
    encoded = encode_many([SAMPLES[n] for n in names], TEMPLATES["chatglm3"], tok)
    for name, enc in zip(names, encoded):
        ids, labels = demo_multi_turn(CORPUS[name], DemoTokenizer(tok))
        assert list(enc.input_ids) == ids, name
        assert list(enc.labels) == labels, name


@pytest.mark.parametrize("kind", ["chatglm", "tokenizer"])
def test_chatglm3_io_equals_the_demo_input_output_dataset(request, kind):
    tok = request.getfixturevalue(kind)
    records = [{"prompt": "类型#裤*版型#宽松", "response": "宽松的阔腿裤，舒适。"},
               {"prompt": "  Write a haiku\r\n", "response": "\tleaves fall\nquietly "}, {"prompt": "x", "response": ""}]
    for record in records:
        sample = FORMATS["chatglm3-io"].read(record, [])
        enc = encode(sample, TEMPLATES["chatglm3-io"], tok)
        ids, labels = demo_input_output(record, DemoTokenizer(tok))
        assert (list(enc.input_ids), list(enc.labels)) == (ids, labels), record


def test_the_chatglm3_class_loads_and_encodes_under_this_transformers(chatglm):
    """The class's _pad has no padding_side (transformers 5 passes one): encode() works all the same,
    and its markers, kept outside the added-token table, get their ids, while "sop" inside a word
    stays text."""
    hf = chatglm.hf
    assert hf.encode("people", add_special_tokens=False) == hf.tokenizer.encode("people")
    assert chatglm.special_id("sop") == hf.get_command("sop") and not chatglm.reads_in_text("sop")
    enc = encode(SAMPLES["mixed"], TEMPLATES["chatglm3"], chatglm)
    assert enc.input_ids.count(hf.get_command("sop")) == 1  # the prefix's, not the text's


# -- Baichuan2's fine-tune.py, restated ------------------------------------------------------

def baichuan2_reference(conversations: list[dict], tok: TextTokenizer) -> tuple[list[int], list[int]]:
    user, assistant = tok.special_id("<reserved_106>"), tok.special_id("<reserved_107>")
    eos = tok.hf.eos_token_id
    input_ids, labels = [], []
    for message in conversations:
        value_ids = tok.hf.encode(message["value"], add_special_tokens=False)
        if message["from"] == "human":
            input_ids += [user] + value_ids
            labels += [eos] + [IGNORE] * len(value_ids)
        else:
            input_ids += [assistant] + value_ids
            labels += [IGNORE] + value_ids
    return input_ids + [eos], labels + [eos]


@pytest.mark.parametrize("kind", ["tokenizer", "sentencepiece"])
def test_baichuan2_equals_its_fine_tune_script(request, kind):
    tok = request.getfixturevalue(kind)
    for name in ("single-en", "multi-zh", "empty", "whitespace", "crlf-tabs", "mixed"):
        conversations = [{"from": "human" if m["role"] == "user" else "gpt", "value": m["content"]}
                         for m in CORPUS[name]["conversations"]]
        sample = FORMATS["sharegpt"].read({"conversations": conversations}, [])
        enc = encode(sample, TEMPLATES["baichuan2"], tok)
        ids, labels = baichuan2_reference(conversations, tok)
        assert list(enc.input_ids) == ids, name
        # the script's first label (EOS on the first user token) is never read by the shifted loss
        assert enc.labels[0] == IGNORE and list(enc.labels[1:]) == labels[1:], name


# -- the models' own chat templates ----------------------------------------------------------

QWEN25_CHAT_TEMPLATE = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] }}
    {%- else %}{{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}{%- endif %}
    {{- "\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}{{- "\\n" }}{{- tool | tojson }}{%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
    {%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}{{- '\\n' + message.content }}{%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}{%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' }}{{- tool_call.name }}{{- '", "arguments": ' }}{{- tool_call.arguments | tojson }}{{- '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}{{- '<|im_start|>user' }}{%- endif %}
        {{- '\\n<tool_response>\\n' }}{{- message.content }}{{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}{{- '<|im_end|>\\n' }}{%- endif %}
    {%- endif %}
{%- endfor %}"""

LLAMA3_CHAT_TEMPLATE = (
    "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = '<|begin_of_text|>' + content %}{% endif %}{{ content }}{% endfor %}")


def jinja_rendered(tok: TextTokenizer, template: str, sample, tools=None) -> str:
    return tok.hf.apply_chat_template(chat_messages(sample), tools=tools, chat_template=template, tokenize=False)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_qwen25_renders_as_qwen25s_own_template(tokenizer, name):
    sample = SAMPLES[name]
    ours = "".join(s.text for s in render(sample, TEMPLATES["qwen2.5"], eos=tokenizer.eos))
    assert ours == jinja_rendered(tokenizer, QWEN25_CHAT_TEMPLATE, sample, sample.tools)


@pytest.mark.parametrize("name", [n for n, s in SAMPLES.items() if "tool_call" not in s.roles])
def test_llama3_renders_as_metas_template(tokenizer, name):
    sample = SAMPLES[name]
    ours = "".join(s.text for s in render(sample, TEMPLATES["llama3"]))
    assert ours == jinja_rendered(tokenizer, LLAMA3_CHAT_TEMPLATE, sample)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("tools", [[], "[]", "", None])
def test_an_empty_tool_list_renders_no_tools_preamble(template, tools):
    with_tools = SAMPLES["single-en"]._replace(tools=tools)
    assert render(with_tools, TEMPLATES[template]) == render(SAMPLES["single-en"], TEMPLATES[template])
