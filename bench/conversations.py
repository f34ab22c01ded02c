"""Realistic ChatGLM3 conversations (Chinese and English, some with tool calls) for the benchmarks."""

from __future__ import annotations

import random

ZH = "退货政策规定顾客在收到商品后七天内可以无理由退货但需保持商品完好无损并附带原始包装和发票仓库确认收货后原路退款"
EN = ("the customer asks whether an opened item can still be returned and the assistant explains the policy "
      "refunds arrive within three business days after the warehouse confirms receipt").split()
TOOLS = [{"name": "get_weather", "description": "查询城市天气",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def _text(rng: random.Random, n: int) -> str:
    if rng.random() < 0.5:
        return "".join(rng.choice(ZH) for _ in range(n))
    return " ".join(rng.choice(EN) for _ in range(max(1, n // 4)))


def conversation(rng: random.Random) -> dict:
    """A ChatGLM3 record: optional system prompt, 1-3 turns, a quarter with tools and calls."""
    conversation = []
    if rng.random() < 0.4:
        conversation.append({"role": "system", "content": _text(rng, 40)})
    record: dict = {}
    with_tools = rng.random() < 0.25
    if with_tools:
        record["tools"] = TOOLS
    for _ in range(rng.randint(1, 3)):
        conversation.append({"role": "user", "content": _text(rng, rng.randint(20, 120))})
        if with_tools and rng.random() < 0.5:
            conversation.append({"role": "tool", "name": "get_weather", "parameters": {"city": "北京"},
                                 "observation": {"temperature": rng.randint(-10, 35), "condition": "晴"}})
        conversation.append({"role": "assistant", "content": _text(rng, rng.randint(60, 300))})
    if with_tools and conversation[0]["role"] == "system":
        conversation.pop(0)  # keep the data clean: tools with a system prompt is a finding (T008)
    record["conversations"] = conversation
    return record


def alpaca(rng: random.Random) -> dict:
    """An Alpaca record: instruction, often an input, sometimes a system prompt or a history turn."""
    record = {"instruction": _text(rng, rng.randint(20, 80)), "input": _text(rng, 40) if rng.random() < 0.5 else "",
              "output": _text(rng, rng.randint(60, 300))}
    if rng.random() < 0.3:
        record["system"] = _text(rng, 30)
    if rng.random() < 0.2:
        record["history"] = [[_text(rng, 40), _text(rng, 80)]]
    return record


def sharegpt(rng: random.Random) -> dict:
    """A ShareGPT record: 1-3 human/gpt turns, sometimes a system prompt."""
    record: dict = {"conversations": []}
    for _ in range(rng.randint(1, 3)):
        record["conversations"] += [{"from": "human", "value": _text(rng, rng.randint(20, 120))},
                                    {"from": "gpt", "value": _text(rng, rng.randint(60, 300))}]
    if rng.random() < 0.3:
        record["system"] = _text(rng, 30)
    return record


RECORDS = {"chatglm3": conversation, "alpaca": alpaca, "sharegpt": sharegpt}
