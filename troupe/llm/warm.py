"""Vendor SDKs imported when the server starts, not at an agent's first step.

The adapters are imported on first use (llm/registry.py), and importing a vendor SDK takes a
while: about 0.4 s for `openai` and 1.3 s for `anthropic` on the 2-core benchmark machine.
Done at an agent's first step, that import ran on the event loop and stalled every agent of
the server; a fresh server's first broadcast to 20 workers took 2× its ideal time instead
of 1.1×. So the server imports, before it takes requests and in a worker thread, the
adapters of the providers its environment configures (a key or a base URL variable set)."""

import asyncio
import contextlib
import importlib

from troupe.config import ProviderVariables
from troupe.llm.providers import PROVIDERS


def configured_adapters() -> list[str]:
    """The adapter modules of the providers whose key or base URL variable is set."""
    variables = ProviderVariables()
    modules: list[str] = []
    for provider in PROVIDERS.values():
        names = (provider.key_variable, provider.base_url_variable)
        if any(name and variables.value(name) for name in names):
            module = provider.adapter.partition(":")[0]
            if module not in modules:
                modules.append(module)
    return modules


async def import_configured_adapters() -> list[str]:
    """Import them in a worker thread (the event loop stays free); the modules imported. A
    module that fails to import is left for the first step to report."""
    modules = configured_adapters()
    if modules:
        await asyncio.to_thread(_import_each, modules)
    return modules


def _import_each(modules: list[str]) -> None:
    for module in modules:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
