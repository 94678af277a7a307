"""Writing a summary: rows evicted from an agent's context, as a transcript, folded into the
summary before them by a model. Recursive by construction: each request carries the previous
summary, and the answer replaces it. A transcript longer than the summariser's own window
is folded in chunks, oldest first."""

import logging
from collections.abc import Sequence

from troupe.llm.base import ChatMessage, Model, ModelRequest, ModelResponse, Usage
from troupe.store.messages import StoredMessage

log = logging.getLogger("troupe.agent")

DEFAULT_PROMPT = (
    "You keep the running summary of a conversation between an AI agent and the people and "
    "agents it talks to. Its oldest messages no longer fit the agent's context window, and "
    "the agent will see only your summary of them. Write a new summary that keeps everything "
    "of the previous summary and of the new messages that the agent may need later: facts "
    "people told it, names, numbers, dates, decisions, promises and open tasks. Leave out "
    "greetings and small talk. Write plain sentences, at most {words} words, and nothing but "
    "the summary."
)
LINE_CHARS = 1000  # the longest transcript line; longer messages are cut
SHARE_OF_WINDOW = 0.6  # of the summariser's context window, for its prompt
CHARS_PER_TOKEN = 4


def transcript(rows: Sequence[StoredMessage]) -> list[str]:
    """One line per row, saying who said or did what."""
    lines = []
    for row in rows:
        text = row.content or ""
        kind = row.message_type
        if kind == "user_message":
            line = f"user: {text}"
        elif kind == "system_message":
            line = f"system: {text}"
        elif kind == "assistant_message":
            line = f"assistant: {text}"
        elif kind == "reasoning_message":
            line = f"assistant (thinking): {text}"
        elif kind == "tool_call_message":
            line = f"assistant called {row.tool_name}({row.tool_arguments or ''})"
        else:
            line = f"{row.tool_name or 'tool'} returned: {text}"
        line = " ".join(line.split())
        lines.append(line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…")
    return lines


def summary_request(
    prompt: str, previous: str, lines: Sequence[str], limit_chars: int
) -> ModelRequest:
    words = max(20, limit_chars // 7)
    parts = []
    if previous:
        parts.append(f"<summary>\n{previous}\n</summary>")
    parts.append("<transcript>\n" + "\n".join(lines) + "\n</transcript>")
    return ModelRequest(
        messages=[
            ChatMessage(role="system", content=prompt.replace("{words}", str(words))),
            ChatMessage(role="user", content="\n\n".join(parts)),
        ],
        tools=[],
        max_tokens=limit_chars // CHARS_PER_TOKEN + 16,
        temperature=0.0,
    )


def answer_text(response: ModelResponse) -> str:
    """The summary in an answer: its text, or what a model that insisted on a tool call put
    in its arguments."""
    if response.content and response.content.strip():
        return response.content.strip()
    for call in response.tool_calls:
        return call.arguments.strip()
    return ""


def clip(text: str, limit_chars: int) -> str:
    """At most `limit_chars`, cut at a line or word end where there is one."""
    if len(text) <= limit_chars:
        return text
    cut = text[: limit_chars - 1]
    end = max(cut.rfind("\n"), cut.rfind(" "))
    return (cut[:end] if end > limit_chars // 2 else cut).rstrip() + "…"


def chunks(lines: Sequence[str], room_chars: int) -> list[list[str]]:
    """The lines in consecutive runs of at most `room_chars` (at least one line each)."""
    runs: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if runs[-1] and size + len(line) > room_chars:
            runs.append([])
            size = 0
        runs[-1].append(line)
        size += len(line) + 1
    return [run for run in runs if run]


async def write_summary(
    model: Model,
    *,
    prompt: str,
    previous: str,
    rows: Sequence[StoredMessage],
    limit_chars: int,
    context_window: int,
) -> tuple[str, Usage]:
    """The previous summary with `rows` folded in, at most `limit_chars` long, and the
    tokens the summariser's calls took (counted in the usage of the run that needed it)."""
    room = int(context_window * SHARE_OF_WINDOW) * CHARS_PER_TOKEN - len(prompt) - limit_chars
    summary, prompt_tokens, completion_tokens = previous, 0, 0
    for run in chunks(transcript(rows), max(room, LINE_CHARS)):
        response = await model.complete(summary_request(prompt, summary, run, limit_chars))
        prompt_tokens += response.usage.prompt_tokens
        completion_tokens += response.usage.completion_tokens
        answer = answer_text(response)
        if not answer:
            log.warning("summariser %s answered nothing; the previous summary stays", model.handle)
            continue
        summary = clip(answer, limit_chars)
    return summary, Usage(prompt_tokens, completion_tokens)
