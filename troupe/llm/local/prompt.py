"""The prompt a small local model reads: the conversation as plain chat turns, as compact as
it can be read, rendered with the model's own chat template (or ChatML)."""

import json
from typing import Any

from troupe.llm.base import ChatMessage, ModelRequest, ToolSpec
from troupe.llm.local.grammar import HEARTBEAT

STOP = ["<|im_end|>", "<|im_start|>"]
TOOL_RESULT_CHARS = 1500  # a long search result would cost seconds of prompt reading
# What the model reads in place of each image of a user message: it reads text only, and a
# history may hold images (the agent's model was another before, an imported agent file).
UNSEEN_IMAGE = "[an image was here, which this model cannot see]"


def tool_sets(request: ModelRequest) -> tuple[list[ToolSpec], list[ToolSpec]]:
    """(tools the prompt describes, tools the grammar admits). The prompt lists every offered
    tool whatever the choice, so narrowing the choice keeps the cached prompt prefix valid."""
    if request.tool_choice == "none":
        return [], []
    offered = list(request.tools)
    named = [t for t in offered if t.name == request.tool_choice]
    # "auto" gets a call too: the agent loop's protocol is tool calls only.
    return offered, named or offered


def compact_turns(messages: list[ChatMessage], tools: list[ToolSpec]) -> list[dict[str, str]]:
    """The conversation as plain system/user/assistant turns, as compact as it can be read:
    the system prompt carries a one-line guide per tool, earlier calls are written in the
    exact JSON the grammar makes the model write, tool results and later system notices
    come in as user turns, each image of a user message is a placeholder saying so, and
    consecutive turns of one role merge (some templates insist on alternation)."""
    turns: list[dict[str, str]] = []
    if tools and (not messages or messages[0].role != "system"):
        turns.append({"role": "system", "content": _tool_guide(tools).lstrip()})
    for index, message in enumerate(messages):
        content = message.content or ""
        if message.role == "system" and index == 0:
            role, text = "system", content + (_tool_guide(tools) if tools else "")
        elif message.role == "assistant":
            calls = [_call_json(c.name, c.arguments) for c in message.tool_calls]
            role, text = "assistant", "\n".join(p for p in [content, *calls] if p)
        elif message.role == "tool":
            role, text = "user", f"[{message.name or 'tool'} result] {_clip(content)}"
        elif message.role == "system":
            role, text = "user", f"[system] {content}"
        else:
            role, text = "user", _with_unseen_images(content, len(message.images))
        if turns and turns[-1]["role"] == role and role != "system":
            turns[-1]["content"] += "\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


def _with_unseen_images(text: str, images: int) -> str:
    return "\n".join(p for p in [text, *[UNSEEN_IMAGE] * images] if p)


def _tool_guide(tools: list[ToolSpec]) -> str:
    lines = [
        "",
        "",
        'Act by calling one tool, as JSON {"name": <tool>, "arguments": {...}}. Tools:',
    ]
    for tool in tools:
        properties = tool.parameters.get("properties") or {}
        required = set(tool.parameters.get("required") or [])
        names = [p if p in required else f"{p}?" for p in properties if p != HEARTBEAT]
        lines.append(f"- {tool.name}({', '.join(names)}): {_first_sentence(tool.description)}")
    return "\n".join(lines)


def _call_json(name: str, arguments: str) -> str:
    try:
        rendered = json.dumps(json.loads(arguments), ensure_ascii=False)
    except json.JSONDecodeError:
        rendered = arguments  # another provider's malformed call: shown as it was
    return f'{{"name": "{name}", "arguments": {rendered}}}'


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first.split(". ", 1)[0].rstrip(".")


def _clip(text: str) -> str:
    if len(text) <= TOOL_RESULT_CHARS:
        return text
    return text[:TOOL_RESULT_CHARS] + f" [... {len(text) - TOOL_RESULT_CHARS} more characters]"


def chat_template(llm: Any) -> Any:
    """The model's own chat template (from the GGUF), or None to write ChatML."""
    template = (llm.metadata or {}).get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def token_text(token: int) -> str:
        return "" if token < 0 else llm.detokenize([token], special=True).decode(errors="ignore")

    return Jinja2ChatFormatter(template, token_text(llm.token_eos()), token_text(llm.token_bos()))


def render(template: Any, turns: list[dict[str, str]]) -> str:
    if template is not None:
        try:
            return str(template(messages=turns).prompt)
        except Exception:  # a template that rejects these turns (Jinja raises anything)
            pass
    chatml = "".join(f"<|im_start|>{t['role']}\n{t['content']}<|im_end|>\n" for t in turns)
    return chatml + "<|im_start|>assistant\n"
