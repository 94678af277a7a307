"""The built-in tools Letta agents expect beyond memory and messaging (Letta's
`letta_builtin` set), attached by name: `run_code` (Python in the sandbox), `fetch_webpage`
and `web_search` (see tools.web)."""

# mypy: disable-error-code="empty-body"
# (the declarations below are signatures and docstrings: what the model sees)

from typing import Any, Literal

from troupe.config import WebSettings
from troupe.tools.calls import ToolCaller, ToolOutcome
from troupe.tools.registry import BuiltinTool, declare
from troupe.tools.runner import SandboxToolRunner
from troupe.tools.web import fetch_page, search_web

TOOL_TYPE = "letta_builtin"


def run_code(code: str, language: Literal["python", "js", "ts", "r", "java"]) -> str:
    """Run code in a sandbox and see what it printed. Only Python runs on this server.

    Args:
        code: The code to run. If its last line is an expression, its value is returned too.
        language: The language of the code.
    """


def fetch_webpage(url: str) -> str:
    """Fetch a web page and return its readable text.

    Args:
        url: The http(s) address of the page.
    """


def web_search(
    query: str,
    num_results: int = 10,
    category: Literal[
        "company",
        "research paper",
        "news",
        "pdf",
        "github",
        "tweet",
        "personal site",
        "linkedin profile",
        "financial report",
    ]
    | None = None,
    include_text: bool = False,
    include_domains: list[str] | None = None,
    exclude_domains: list[str] | None = None,
    start_published_date: str | None = None,
    end_published_date: str | None = None,
    user_location: str | None = None,
) -> str:
    """Search the web and return the results (title, URL, summary, highlights) as JSON.

    Args:
        query: What to search for.
        num_results: How many results to return (1-100).
        category: Focus on one kind of content.
        include_text: Also return each page's full text (long: it may not fit your context).
        include_domains: Only results from these domains.
        exclude_domains: No results from these domains.
        start_published_date: Only content published after this date (ISO format).
        end_published_date: Only content published before this date (ISO format).
        user_location: Two-letter country code of the user (e.g. "US"), for local results.
    """  # fmt: skip


# What runs in the sandbox: the code as a notebook cell, its output captured, its last
# expression's value kept, an exception reported (not raised: the output still matters).
RUNNER = """
def run_code(code):
    import ast, contextlib, io, json, traceback
    out, err, namespace = io.StringIO(), io.StringIO(), {"__name__": "__main__"}
    results, error = [], None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            tree = ast.parse(code, "<code>")
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "<code>", "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<code>", "eval"), namespace)
                if value is not None:
                    results.append(repr(value))
        except BaseException:
            error = traceback.format_exc(limit=-3)
    logs = {"stdout": out.getvalue().splitlines(), "stderr": err.getvalue().splitlines()}
    return json.dumps({"results": results, "logs": logs, "error": error})
"""


def builtin_tools(runner: SandboxToolRunner, web: WebSettings) -> list[BuiltinTool]:
    async def run_python(caller: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
        if arguments.get("language", "python") != "python":
            return ToolOutcome.error(
                f"only Python runs on this server, not {arguments.get('language')!r}"
            )
        return await runner.run(caller, RUNNER, "run_code", {"code": str(arguments["code"])})

    async def fetch(caller: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
        return await fetch_page(str(arguments["url"]), web)

    async def search(caller: ToolCaller, arguments: dict[str, Any]) -> ToolOutcome:
        return await search_web(arguments, web)

    return [
        declare(run_code, TOOL_TYPE, run=run_python),
        declare(fetch_webpage, TOOL_TYPE, run=fetch),
        declare(web_search, TOOL_TYPE, run=search),
    ]
