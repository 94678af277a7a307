"""How the CLI shows a run's state: a run its step limit stopped is not shown as finished."""


def run_state(status: str, stop_reason: str | None) -> str:
    """The run's status as rich markup."""
    if stop_reason == "max_steps":
        return "[bold yellow]stopped: max steps[/]"
    colour = {"completed": "green", "failed": "red", "cancelled": "magenta"}.get(status, "yellow")
    return f"[{colour}]{status}[/]"
