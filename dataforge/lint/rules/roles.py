"""R rules: which roles speak, in what order, and whether they say anything."""

from __future__ import annotations

from collections.abc import Callable

from dataforge.formats.base import Format
from dataforge.lint.findings import Severity
from dataforge.lint.rules import Rule, register
from dataforge.model import KNOWN_ROLES, PROMPT_SIDE, REPLY_SIDE, Role, Sample

E, W = Severity.ERROR, Severity.WARNING
register(
    Rule("R001", "unknown-role", E, "A message has a role the format does not know.",
         "Use the format's role names (`dataforge formats` lists them).",
         bad='{"conversations": [{"role": "narrator", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'),
    Rule("R010", "role-alias", E, "A message names its role in another format's words (human for user).",
         "Trainers reject or skip the message; `dataforge lint --fix` renames it.",
         bad='{"conversations": [{"role": "human", "content": "hi"}, {"role": "gpt", "content": "hello"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n',
         fixable=True),
    Rule("R002", "system-not-first", E, "A system message comes after other messages.",
         "Move the system message to the start; templates only place it there.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "system", "content": "Be brief."}, '
             '{"role": "assistant", "content": "hello"}]}\n',
         good='{"conversations": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}, '
              '{"role": "assistant", "content": "hello"}]}\n'),
    Rule("R003", "multiple-system", E, "A conversation holds more than one system message.",
         "Merge them into one; ChatGLM3 and most templates accept a single system prompt.",
         bad='{"conversations": [{"role": "system", "content": "Be brief."}, {"role": "system", "content": "Be kind."}, '
             '{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n',
         good='{"conversations": [{"role": "system", "content": "Be brief and kind."}, {"role": "user", "content": "hi"}, '
              '{"role": "assistant", "content": "hello"}]}\n'),
    Rule("R004", "reply-before-user", E, "The assistant speaks before the first user message.",
         "A conversation starts with the user (after an optional system message).",
         bad='{"conversations": [{"role": "assistant", "content": "hello"}, {"role": "user", "content": "hi"}, '
             '{"role": "assistant", "content": "how can I help?"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'),
    Rule("R005", "repeated-role", W, "Two consecutive messages have the same role.",
         "Merge the two messages, or add the missing turn between them.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "user", "content": "hi again"}, '
             '{"role": "assistant", "content": "hello"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi\\nhi again"}, {"role": "assistant", "content": "hello"}]}\n'),
    Rule("R006", "no-reply", E, "The conversation has no assistant message: there is nothing to learn.",
         "Add the assistant's answer.",
         bad='{"conversations": [{"role": "user", "content": "hi"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'),
    Rule("R007", "unanswered-last-turn", E,
         "The conversation ends with a user turn (or a preference prompt does not).",
         "End with the assistant's answer; LLaMA-Factory drops such rows ('Invalid message count'). "
         "A preference prompt instead ends with the user turn that chosen/rejected answer.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, '
             '{"role": "user", "content": "bye"}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, '
              '{"role": "user", "content": "bye"}, {"role": "assistant", "content": "bye!"}]}\n'),
    Rule("R008", "empty-content", W, "A message's content is empty or only whitespace.",
         "An empty reply trains the model to say nothing; fill it in or drop the turn.",
         bad='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]}\n',
         good='{"conversations": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'),
    Rule("R009", "roles-not-alternating", E,
         "Prompts (user, observation) and replies (assistant, function call) do not alternate.",
         "LLaMA-Factory's ShareGPT layout needs user/observation at even and assistant/function_call at odd "
         "positions, and skips rows that break it.",
         bad='{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}, '
             '{"from": "gpt", "value": "anything else?"}]}\n',
         good='{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello, anything else?"}]}\n'),
)

Report = Callable[[str, str, str], None]
# (code, message index or -1 for the record, message)
Verdict = tuple[tuple[str, int, str], ...]
# R001 and R010 are decided by the formats' readers, which know their own role names.
_SPOKEN = frozenset({Role.SYSTEM, Role.USER, Role.ASSISTANT})
_verdicts: dict[tuple, Verdict] = {}  # by (alternation, preference?, roles): datasets repeat a few shapes


def check(sample: Sample, fmt: Format, report: Report) -> None:
    """Every R rule: the order of the roles, then what the messages say."""
    check_order(sample, fmt, report)
    check_contents(sample, report)


def check_order(sample: Sample, fmt: Format, report: Report) -> None:
    roles, paths = sample.roles, sample.paths
    if len(set(paths)) != len(paths):
        # Several messages read from one (parallel calls in one function_call, their results in
        # one observation): the order rules judge the messages as the file holds them.
        keep = [i for i in range(len(paths)) if i == 0 or paths[i] != paths[i - 1] or roles[i] != roles[i - 1]]
        roles, paths = tuple(roles[i] for i in keep), tuple(paths[i] for i in keep)
    key = (fmt.alternation, sample.is_preference, roles)
    verdict = _verdicts.get(key)
    if verdict is None:
        if len(_verdicts) >= 4096:
            _verdicts.clear()
        verdict = _verdicts[key] = judge_order(roles, fmt.alternation == "strict", sample.is_preference)
    for code, index, message in verdict:
        report(code, paths[index] if index >= 0 else "$", message)


def check_contents(sample: Sample, report: Report) -> None:
    """R008, the one R rule that reads the text."""
    contents = sample.contents
    if "" in contents or any(map(str.isspace, contents)):
        for role, content, path in zip(sample.roles, contents, sample.paths):
            if (not content or content.isspace()) and role in _SPOKEN:
                report("R008", path, f"empty {role} message")


def judge_order(roles: tuple[str, ...], strict: bool, preference: bool) -> Verdict:
    """Every order rule's verdict on a sequence of roles."""
    out: list[tuple[str, int, str]] = []
    seen_user = seen_reply = False
    systems = 0
    previous = None
    turn = 0  # position among non-system messages, for strict alternation
    for i, role in enumerate(roles):
        if role not in KNOWN_ROLES:  # the format's reader already reported it (R001)
            previous = role
            continue
        if role == Role.SYSTEM:
            systems += 1
            if systems == 2:
                out.append(("R003", i, "a second system message"))
            if i > 0 and systems == 1:
                out.append(("R002", i, "the system message is not the first message"))
            continue
        if role == Role.USER:
            seen_user = True
        elif role in REPLY_SIDE:
            if not seen_user and not seen_reply:
                out.append(("R004", i, f"{role} message before the first user message"))
            seen_reply = True
        if role == previous and role in (Role.USER, Role.ASSISTANT):
            out.append(("R005", i, f"two {role} messages in a row"))
        if strict and (role in PROMPT_SIDE) != (turn % 2 == 0):
            expected = "a user or observation turn" if turn % 2 == 0 else "an assistant or function call turn"
            out.append(("R009", i, f"{role} at position {turn}: expected {expected}"))
        previous = role
        turn += 1
    last = len(roles) - 1
    if preference:
        if last < 0 or roles[last] != Role.USER:
            out.append(("R007", last, "a preference prompt must end with the user turn"))
    elif not seen_reply:
        out.append(("R006", -1, "no assistant message"))
    elif roles[last] in PROMPT_SIDE:
        out.append(("R007", last, f"the conversation ends with a {roles[last]} turn"))
    return tuple(out)
