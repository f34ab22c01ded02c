"""T rules: tool definitions, tool calls and their observations."""

from __future__ import annotations

from dataforge.formats.base import Format
from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register
from dataforge.lint.rules.roles import Report
from dataforge.model import Role, Sample

E, W = Severity.ERROR, Severity.WARNING
_USER = '{"role": "user", "content": "Weather in Beijing?"}'
_REPLY = '{"role": "assistant", "content": "3 degrees."}'
_OBS = '"observation": {"temp": 3}'
_TOOLS = '"tools": [{"name": "get_weather", "parameters": {"type": "object"}}]'


def _conv(*messages: str, tools: str = _TOOLS) -> str:
    head = tools + ", " if tools else ""
    return '{' + head + '"conversations": [' + ", ".join(messages) + "]}\n"


_CALL = '{"role": "tool", "name": "get_weather", "parameters": {"city": "Beijing"}, ' + _OBS + "}"
register(
    Rule("T001", "bad-tools", E, "The tool definitions are malformed.",
         "`tools` is a list of objects, each with a string `name` (or OpenAI's {type, function: {name}}); "
         "in ShareGPT it is that list as a JSON string. (ChatGLM3 takes any JSON: it is put into the system "
         "prompt as it is.)",
         bad='{"conversations": [{"from": "human", "value": "Weather?"}, {"from": "gpt", "value": "Sunny."}], '
             '"tools": "[{\\"description\\": \\"weather\\"}]"}\n',
         good='{"conversations": [{"from": "human", "value": "Weather?"}, {"from": "gpt", "value": "Sunny."}], '
              '"tools": "[{\\"name\\": \\"get_weather\\", \\"description\\": \\"weather\\"}]"}\n'),
    Rule("T002", "call-without-name", E, "A tool call does not name its tool.",
         "Add the tool's name.",
         bad=_conv(_USER, '{"role": "tool", "parameters": {"city": "Beijing"}, ' + _OBS + "}", _REPLY),
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T003", "call-without-arguments", E, "A tool call has no arguments (`parameters`).",
         "Give the arguments, `{}` when the tool takes none.",
         bad=_conv(_USER, '{"role": "tool", "name": "get_weather", ' + _OBS + "}", _REPLY),
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T004", "arguments-not-object", E, "A tool call's arguments are not a JSON object.",
         "Arguments map parameter names to values: {\"city\": \"Beijing\"}.",
         bad=_conv(_USER, '{"role": "tool", "name": "get_weather", "parameters": "Beijing", ' + _OBS + "}", _REPLY),
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T005", "undeclared-tool", W, "A tool call names a tool that `tools` does not define.",
         "Declare the tool, or correct its name: the model learns to call tools it was never shown.",
         bad=_conv(_USER, _CALL.replace("get_weather", "get_wether"), _REPLY),
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T006", "missing-observation", E, "A tool call is not followed by its observation.",
         "Add what the tool returned; ChatGLM3 `tool` messages need an `observation`.",
         bad=_conv(_USER, '{"role": "tool", "name": "get_weather", "parameters": {"city": "Beijing"}}', _REPLY),
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T007", "arguments-not-string", E,
         "Arguments are an object where the format stores them as a JSON string.",
         "OpenAI `function.arguments` and ShareGPT `function_call` values are JSON strings; --fix encodes them.",
         bad='{"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": null, '
             '"tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_weather", '
             '"arguments": {"city": "Beijing"}}}]}, {"role": "tool", "tool_call_id": "call_0", "content": "3"}, '
             '{"role": "assistant", "content": "3 degrees."}]}\n',
         good='{"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": null, '
              '"tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_weather", '
              '"arguments": "{\\"city\\": \\"Beijing\\"}"}}]}, {"role": "tool", "tool_call_id": "call_0", '
              '"content": "3"}, {"role": "assistant", "content": "3 degrees."}]}\n',
         fixable=True),
    Rule("T008", "tools-and-system", W,
         "ChatGLM3 data with both `tools` and a system message: the reference preprocessing then makes two "
         "system prompts.",
         "Put the tool list in the system message yourself, or drop the system message; dataforge's chatglm3 "
         "template keeps one system prompt, but the original fine-tuning demo does not.",
         bad='{' + _TOOLS + ', "conversations": [{"role": "system", "content": "Be brief."}, '
             + _USER + ", " + _CALL + ", " + _REPLY + "]}\n",
         good=_conv(_USER, _CALL, _REPLY)),
    Rule("T009", "observation-without-call", W, "A tool's result (observation) follows no tool call.",
         "Add the call that produced it, or drop the observation: the model is shown a result nobody asked for, "
         "and formats that pair results with calls (OpenAI) cannot hold it.",
         bad='{"conversations": [{"from": "human", "value": "Weather?"}, {"from": "observation", "value": "3"}, '
             '{"from": "gpt", "value": "3 degrees."}]}\n',
         good='{"conversations": [{"from": "human", "value": "Weather?"}, {"from": "function_call", "value": '
              '"{\\"name\\": \\"get_weather\\", \\"arguments\\": {}}"}, {"from": "observation", "value": "3"}, '
              '{"from": "gpt", "value": "3 degrees."}]}\n'),
)


def declared_names(tools: object) -> set[str] | None:
    """Names defined by a tool list, or None when it is not a well-formed list."""
    if type(tools) is not list:
        return None
    names = set()
    for tool in tools:
        if type(tool) is not dict:
            return None
        name = tool.get("name")
        if name is None and type(tool.get("function")) is dict:  # OpenAI's {type, function: {...}}
            name = tool["function"].get("name")
        if type(name) is not str:
            return None
        names.add(name)
    return names


def check(sample: Sample, fmt: Format, report: Report) -> None:
    roles = sample.roles
    if sample.tools is None and sample.names is None and Role.TOOL_CALL not in roles \
            and Role.OBSERVATION not in roles:
        return
    declared = None
    if sample.tools is not None:
        declared = declared_names(sample.tools)
        if declared is None and not fmt.tools_any_json:
            report("T001", "$.tools", "tools must be a list of objects that each have a string name")
        if fmt.call_carries_observation and Role.SYSTEM in roles:
            report("T008", "$.tools", "tools and a system message: the reference demo would add a second system prompt")
    waiting = []  # (path, name) of tool calls whose observation has not come yet
    answered = False  # the current group of calls has had an observation
    none = (None,) * len(roles)
    for role, name, arguments, path in zip(roles, sample.names or none, sample.arguments or none, sample.paths):
        if role == Role.TOOL_CALL:
            if name is None:
                report("T002", path, "tool call without a tool name")
            elif declared is not None and name not in declared:
                report("T005", path, f"tool {name!r} is not declared in tools")
            if arguments is None:
                report("T003", path, "tool call without arguments")
            if answered:  # a new group after results: the old one is settled
                waiting, answered = [], False
            waiting.append((path, name))
        elif role == Role.OBSERVATION:
            if waiting:
                if fmt.one_observation_per_group:
                    waiting = []
                else:
                    waiting.pop(0)
                answered = True
            elif not answered:
                report("T009", path, "an observation with no tool call before it")
        else:
            if waiting:
                _unanswered(waiting, report)
            waiting, answered = [], False
    # A conversation may end on a tool call (teaching the model to call), except where the call
    # carries its own result.
    if waiting and fmt.call_carries_observation:
        _unanswered(waiting, report)


def _unanswered(calls: list[tuple[str, str | None]], report: Report) -> None:
    for path, name in calls:
        report("T006", path, f"tool call {name or ''!s} has no observation".replace("  ", " "))
