"""The files section of the system prompt, as Letta renders it: the agent's folders, how
many files are open of how many allowed, and the visible part of each open file."""

from collections.abc import Sequence

from troupe.store.agent_files import PromptFolder
from troupe.tools.files.view import cut_to, file_budget


def render_directories(folders: Sequence[PromptFolder], context_window: int | None) -> str:
    """The `<directories>` section; empty when the agent has no folder."""
    if not folders:
        return ""
    max_open, per_file = file_budget(context_window)
    open_count = sum(1 for f in folders for _name, view in f.files if view.is_open)
    out = [
        "<directories>",
        "<file_limits>",
        f"- current_files_open={open_count}",
        f"- max_files_open={max_open}",
        "</file_limits>",
    ]
    for folder in folders:
        out.append(f'<directory name="{folder.name}">')
        if folder.description:
            out.append(f"<description>{folder.description}</description>")
        if folder.instructions:
            out.append(f"<instructions>{folder.instructions}</instructions>")
        for name, view in folder.files:
            value = cut_to(view.visible_content or "", per_file) if view.is_open else ""
            out.append(f'<file status="{"open" if view.is_open else "closed"}" name="{name}">')
            out.append("<metadata>")
            out.append("- read_only=true")
            out.append(f"- chars_current={len(value)}")
            out.append(f"- chars_limit={per_file}")
            out.append("</metadata>")
            if value:
                out.extend(["<value>", value, "</value>"])
            out.append("</file>")
        out.append("</directory>")
    out.append("</directories>")
    return "\n".join(out)
