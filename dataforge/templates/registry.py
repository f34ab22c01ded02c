"""The built-in templates, from the model families' own documentation and the seed documents.

Texts follow the original projects: Stanford Alpaca's prompts, Meta's Llama-2 and Llama-3 chat
layouts, ChatML as Qwen uses it, ChatGLM3's role tokens (FORMATS.md section 1), Baichuan2's
reserved user/assistant tokens, and the Linly, NousResearch/OpenLLM, YaYi, StableBeluga and
Guanaco prompts quoted in seed 002.
"""

from __future__ import annotations

from dataforge.errors import DataforgeError
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

TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template(
        "chatglm3", "ChatGLM3: [gMASK]sop <|role|>metadata\\ncontent ... EOS (labels as the reference demo)",
        prefix="[gMASK]sop", suffix="{eos}",
        system="<|system|>\n{content}", user="<|user|>\n{content}",
        assistant=("<|assistant|>", "\n{content}"), end_of_turn="", end_of_turn_is_next=True,
        tool_call=("<|assistant|>", "{name}\n```python\ntool_call({kwargs})\n```"),
        observation="<|observation|>\n{content}", tools=_CHATGLM3_TOOLS,
        control_tokens=("[gMASK]", "sop", "<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"),
    ),
    Template(
        "baichuan2", "Baichuan2: <reserved_106>user<reserved_107>assistant</s>",
        system="{content}", user="<reserved_106>{content}", assistant=("<reserved_107>", "{content}"),
        observation="<reserved_106>Observation: {content}", control_tokens=("<reserved_106>", "<reserved_107>"),
    ),
    Template(
        "llama2", "Llama-2 chat: <s>[INST] <<SYS>>...<</SYS>> user [/INST] assistant </s>",
        system="<<SYS>>\n{content}\n<</SYS>>\n\n", system_in_first_user=True,
        user="{bos}[INST] {content} [/INST]", assistant=("", " {content}"), end_of_turn=" {eos}",
        observation="{bos}[INST] Observation: {content} [/INST]", control_tokens=("[INST]", "[/INST]"),
    ),
    Template(
        "llama3", "Llama-3 instruct: <|start_header_id|>role<|end_header_id|> ... <|eot_id|>",
        prefix="<|begin_of_text|>",
        system="<|start_header_id|>system<|end_header_id|>\n\n{content}<|eot_id|>",
        user="<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>",
        assistant=("<|start_header_id|>assistant<|end_header_id|>\n\n", "{content}"), end_of_turn="<|eot_id|>",
        observation="<|start_header_id|>ipython<|end_header_id|>\n\n{content}<|eot_id|>",
        control_tokens=("<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
    ),
    Template(
        "qwen", "Qwen / ChatML: <|im_start|>role\\ncontent<|im_end|>",
        system="<|im_start|>system\n{content}<|im_end|>\n",
        user="<|im_start|>user\n{content}<|im_end|>\n",
        assistant=("<|im_start|>assistant\n", "{content}"), end_of_turn="<|im_end|>", separator="\n",
        tool_call=("<|im_start|>assistant\n", "<tool_call>\n{call}\n</tool_call>"),
        observation="<|im_start|>user\n<tool_response>\n{content}\n</tool_response><|im_end|>\n",
        tools="# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
              "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>",
        control_tokens=("<|im_start|>", "<|im_end|>"),
    ),
    Template(
        "alpaca", "Stanford Alpaca: preamble, ### Instruction:, ### Input: (when given), ### Response:",
        default_system=_ALPACA_SYSTEM, default_system_with_input=_ALPACA_SYSTEM_WITH_INPUT,
        user="### Instruction:\n{content}\n\n### Response:",
        user_with_input="### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:",
        assistant=("", "{content}"), separator="\n\n",
    ),
    Template(
        "linly", "Linly-AI: ### Instruction:prompt  ### Response:",
        user="### Instruction:{content}  ### Response:", assistant=("", "{content}"), separator="\n",
    ),
    Template(
        "nous", "NousResearch / OpenLLM: ### Instruction:, ### Input: (when given), ### Response:",
        user="### Instruction:\n{content}\n\n### Response:\n",
        user_with_input="### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n",
        assistant=("", "{content}"), separator="\n\n",
    ),
    Template(
        "yayi", "YaYi: <|System|>: <|Human|>: <|YaYi|>:",
        default_system=_YAYI_SYSTEM, system="<|System|>:\n{content}\n\n",
        user="<|Human|>:\n{content}\n\n", assistant=("<|YaYi|>:\n", "{content}"), separator="\n\n",
        observation="<|Human|>:\nObservation: {content}\n\n",
    ),
    Template(
        "stablebeluga", "StableBeluga: ### System: ### User: ### Assistant:",
        system="### System:\n{content}\n\n", user="### User:\n{content}\n\n",
        assistant=("### Assistant:\n", "{content}"), separator="\n\n",
        observation="### User:\nObservation: {content}\n\n",
    ),
    Template(
        "guanaco", "Guanaco: ### Human: ... ### Assistant: ...",
        default_system="A chat between a curious human and an artificial intelligence assistant. "
                       "The assistant gives helpful, detailed, and polite answers to the user's questions.",
        system="{content}\n", user="### Human: {content} ", assistant=("### Assistant: ", "{content}"),
        separator=" ", observation="### Human: Observation: {content} ",
    ),
)}

# The template `dataforge preview` uses when none is given: the one the format's authors train with.
_FOR_FORMAT = {"chatglm3": "chatglm3", "chatglm3-io": "chatglm3", "alpaca": "alpaca"}


def default_template_for(format_name: str) -> str:
    return _FOR_FORMAT.get(format_name, "qwen")


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise DataforgeError(f"unknown template {name!r}",
                             hint="`dataforge templates` lists them; `hf` uses the tokenizer's own chat template") from None
