"""The built-in templates, each following its model family's own fine-tuning or chat code.

Every template names the reference it follows and each place it departs from it on purpose;
`dataforge templates --verbose` prints both, and the README's mask-preview section repeats them.
"""

from __future__ import annotations

from dataforge.errors import DataforgeError
from dataforge.model import Role
from dataforge.templates.model import Template

_ALPACA_SYSTEM = ("Below is an instruction that describes a task. "
                  "Write a response that appropriately completes the request.")
_ALPACA_SYSTEM_WITH_INPUT = ("Below is an instruction that describes a task, paired with an input that provides "
                             "further context. Write a response that appropriately completes the request.")
_YAYI_SYSTEM = ("You are a helpful, respectful and honest assistant named YaYi developed by Beijing Wenge Technology "
                "Co.,Ltd. Always answer as helpfully as possible, while being safe. Your answers should not include "
                "any harmful, unethical, racist, sexist, toxic, dangerous, or illegal content. Please ensure that your "
                "responses are socially unbiased and positive in nature.\n\nIf a question does not make any sense, or "
                "is not factually coherent, explain why instead of answering something not correct. If you don't "
                "know the answer to a question, please don't share false information.")
_CHATGLM3_TOOLS = ("Answer the following questions as best as you can. You have access to the following tools:\n"
                   "{tools}")
_QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
_QWEN_TOOLS = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
               "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>"
               "\n\nFor each function call, return a json object with function name and arguments within "
               "<tool_call></tool_call> XML tags:\n<tool_call>\n"
               '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>')
_PROMPT_SIDE = frozenset({Role.SYSTEM, Role.USER, Role.OBSERVATION})
_LOSS_FLAGS = "a message's `loss` flag overrides its role's default (the reference has no such flag)"
_TOOLS_GENERIC = ("the reference has no tool layout: a call is written as {\"name\", \"arguments\"} JSON in a reply, "
                  "an observation as a user turn starting \"Observation:\"")


def _chatml(name: str, title: str, default_system: str | None, reference: str, departures: tuple[str, ...]) -> Template:
    return Template(
        name, title, reference=reference, departures=departures, default_system=default_system,
        system="<|im_start|>system\n{content}<|im_end|>\n",
        user="<|im_start|>user\n{content}<|im_end|>\n",
        assistant=("<|im_start|>assistant\n", "{content}"), end_of_turn="<|im_end|>", separator="\n",
        tool_call=("<|im_start|>assistant\n", "<tool_call>\n{call}\n</tool_call>"), reply_joiner="\n",
        observation="\n<tool_response>\n{content}\n</tool_response>",
        observation_group=("<|im_start|>user", "<|im_end|>\n"),
        tools=_QWEN_TOOLS, tools_json="lines", tools_after_system=True,
        control_tokens=("<|im_start|>", "<|im_end|>"),
    )


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template(
        "chatglm3", "ChatGLM3: [gMASK]sop <|role|>metadata\\ncontent ... EOS (labels as the reference demo)",
        reference="ChatGLM3's fine-tuning demo (multi-turn dataset with tools): [gMASK] sop, then per message "
                  "the role token, the metadata line and the text, each tokenized on its own; EOS at the end; "
                  "a loss mask over trained messages shifted right by one",
        departures=("tools and a system message make one system turn, tools first (the demo would insert a "
                    "second system message; lint reports it as T008)",),
        prefix="[gMASK]sop", suffix="{eos}",
        system="<|system|>\n{break}{content}", user="<|user|>\n{break}{content}",
        assistant=("<|assistant|>", "\n{break}{content}"), end_of_turn="", end_of_turn_is_next=True,
        tool_call=("<|assistant|>", "{name}\n{break}```python\ntool_call({kwargs})\n```"),
        observation="<|observation|>\n{break}{content}", tools=_CHATGLM3_TOOLS, pieces=True,
        never_trained=_PROMPT_SIDE,
        control_tokens=("[gMASK]", "sop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"),
    ),
    Template(
        "chatglm3-io", "ChatGLM3 prompt/response: [gMASK]sop prompt response EOS, no role tokens",
        reference="ChatGLM3's fine-tuning demo (input-output dataset): the prompt tokenized with [gMASK] sop, "
                  "the response on its own, then EOS; labels on the response and EOS",
        departures=("no separate source/target length limits: --max-len with --truncation budget splits one "
                    "length between prompt and response",),
        prefix="[gMASK]sop", user="{content}", assistant=("", "{break}{content}"), system="{content}{break}",
        pieces=True, never_trained=_PROMPT_SIDE, control_tokens=("[gMASK]", "sop"),
    ),
    Template(
        "baichuan2", "Baichuan2: <reserved_106>user<reserved_107>assistant ... </s>",
        reference="Baichuan2's fine-tune.py: per message the user (<reserved_106>) or assistant (<reserved_107>) "
                  "token and the text tokenized on its own; EOS only at the very end; the end of each reply is "
                  "taught as EOS, the label of the next user token",
        departures=("a system message is tokenized first, as Baichuan2's chat code does (the fine-tune script has "
                    "no system)",
                    "the script also writes EOS as the label of the very first token, which the loss never reads "
                    "(labels are shifted); dataforge writes -100 there",
                    _LOSS_FLAGS, _TOOLS_GENERIC),
        system="{content}{break}", user="<reserved_106>{break}{content}",
        assistant=("<reserved_107>", "{break}{content}"), end_of_turn="", end_of_turn_is_next=True,
        end_of_turn_label="{eos}", suffix="{eos}", pieces=True, never_trained=_PROMPT_SIDE,
        observation="<reserved_106>{break}Observation: {content}", control_tokens=("<reserved_106>", "<reserved_107>"),
    ),
    Template(
        "llama2", "Llama-2 chat: <s>[INST] <<SYS>>...<</SYS>> user [/INST] assistant </s>",
        reference="the Llama-2 chat layout of Meta's chat code and Hugging Face's Llama-2 chat template, "
                  "tokenized as one string",
        departures=("message text is not stripped of surrounding spaces (Meta's code strips it)",
                    _LOSS_FLAGS, _TOOLS_GENERIC),
        system="<<SYS>>\n{content}\n<</SYS>>\n\n", system_in_first_user=True,
        user="{bos}[INST] {content} [/INST]", assistant=("", " {content}"), end_of_turn=" {eos}",
        observation="{bos}[INST] Observation: {content} [/INST]", control_tokens=("[INST]", "[/INST]"),
    ),
    Template(
        "llama3", "Llama-3 instruct: <|start_header_id|>role<|end_header_id|> ... <|eot_id|>",
        reference="Meta's Llama-3 instruct chat template: headers per role, text trimmed, <|eot_id|> after "
                  "each message; tool results in the ipython role and calls as {\"name\", \"parameters\"} JSON "
                  "(Llama-3.1)",
        departures=("tool definitions join the system turn as JSON (Llama-3.1's template puts them in the first "
                    "user turn with its own instructions)", _LOSS_FLAGS),
        prefix="<|begin_of_text|>", trim=True,
        system="<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
        user="<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>",
        assistant=("<|start_header_id|>assistant<|end_header_id|>\n\n", "{content}"), end_of_turn="<|eot_id|>",
        tool_call=("<|start_header_id|>assistant<|end_header_id|>\n\n", '{"name": "{name}", "parameters": {arguments}}'),
        observation="<|start_header_id|>ipython<|end_header_id|>\n\n{content}<|eot_id|>",
        control_tokens=("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    ),
    _chatml("qwen", "Qwen / ChatML: <|im_start|>role\\ncontent<|im_end|> (no default system prompt)", None,
            "Qwen2.5's chat template (ChatML; tools one JSON object per line after the system text; a reply and "
            "its tool calls in one turn; consecutive tool results in one user turn), tokenized as one string",
            ("no default system prompt (Qwen2.5 inserts one: use the qwen2.5 template)", _LOSS_FLAGS)),
    _chatml("qwen2.5", "Qwen2.5: ChatML with Qwen's default system prompt", _QWEN_SYSTEM,
            "Qwen2.5's chat template, default system prompt included, tokenized as one string", (_LOSS_FLAGS,)),
    Template(
        "alpaca", "Stanford Alpaca: preamble, ### Instruction:, ### Input: (when given), ### Response:",
        reference="Stanford Alpaca's train.py: the prompt (with or without input) and the output plus EOS "
                  "tokenized as one string with BOS; labels on the output",
        departures=("more turns (history) repeat the instruction/response blocks, separated by a blank line",
                    "a token that holds both the end of the prompt and the start of the output is trained (Alpaca "
                    "masks by the length of the prompt tokenized alone)", _LOSS_FLAGS, _TOOLS_GENERIC),
        prefix="{bos}", default_system=_ALPACA_SYSTEM, default_system_with_input=_ALPACA_SYSTEM_WITH_INPUT,
        user="### Instruction:\n{content}\n\n### Response:",
        user_with_input="### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:",
        assistant=("", "{content}"), separator="\n\n",
    ),
    Template(
        "linly", "Linly-AI: ### Instruction:prompt  ### Response:",
        reference="Linly-AI's prompt as its documentation quotes it, tokenized as one string",
        departures=(_LOSS_FLAGS, _TOOLS_GENERIC),
        user="### Instruction:{content}  ### Response:", assistant=("", "{content}"), separator="\n",
    ),
    Template(
        "nous", "NousResearch / OpenLLM: ### Instruction:, ### Input: (when given), ### Response:",
        reference="the NousResearch / OpenLLM prompt as documented, tokenized as one string",
        departures=(_LOSS_FLAGS, _TOOLS_GENERIC),
        user="### Instruction:\n{content}\n\n### Response:\n",
        user_with_input="### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
        assistant=("", "{content}"), separator="\n\n",
    ),
    Template(
        "yayi", "YaYi: <|System|>: <|Human|>: <|YaYi|>:",
        reference="YaYi's prompt with its default system text, as documented, tokenized as one string",
        departures=(_LOSS_FLAGS, _TOOLS_GENERIC),
        default_system=_YAYI_SYSTEM, system="<|System|>:\n{content}\n\n",
        user="<|Human|>:\n{content}\n\n", assistant=("<|YaYi|>:\n", "{content}"), separator="\n\n",
        observation="<|Human|>:\nObservation: {content}\n\n",
    ),
    Template(
        "stablebeluga", "StableBeluga: ### System: ### User: ### Assistant:",
        reference="StableBeluga's prompt as documented, tokenized as one string",
        departures=(_LOSS_FLAGS, _TOOLS_GENERIC),
        system="### System:\n{content}\n\n", user="### User:\n{content}\n\n",
        assistant=("### Assistant:\n", "{content}"), separator="\n\n",
        observation="### User:\nObservation: {content}\n\n",
    ),
    Template(
        "guanaco", "Guanaco: ### Human: ... ### Assistant: ...",
        reference="Guanaco's prompt with its default system text, as documented, tokenized as one string",
        departures=(_LOSS_FLAGS, _TOOLS_GENERIC),
        default_system="A chat between a curious human and an artificial intelligence assistant. "
                       "The assistant gives helpful, detailed, and polite answers to the user's questions.",
        system="{content}\n", user="### Human: {content} ", assistant=("### Assistant: ", "{content}"),
        separator=" ", observation="### Human: Observation: {content} ",
    ),
)}

# The template `dataforge preview` uses when none is given: the one the format's authors train with.
_FOR_FORMAT = {"chatglm3": "chatglm3", "chatglm3-io": "chatglm3-io", "alpaca": "alpaca"}


def default_template_for(format_name: str) -> str:
    return _FOR_FORMAT.get(format_name, "qwen")


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise DataforgeError(f"unknown template {name!r}",
                             hint="`dataforge templates` lists them; `hf` uses the tokenizer's own chat template") from None
