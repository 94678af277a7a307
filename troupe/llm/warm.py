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
from troupe.errors import TroupeError
from troupe.llm.providers import PROVIDERS


def configured_providers() -> dict[str, str]:
    """The providers whose key or base URL variable is set, and their adapter modules."""
    variables = ProviderVariables()
    found: dict[str, str] = {}
    for provider in PROVIDERS.values():
        names = (provider.key_variable, provider.base_url_variable)
        if any(name and variables.value(name) for name in names):
            found[provider.prefix] = provider.adapter.partition(":")[0]
    return found


async def prepare_configured_providers() -> list[str]:
    """Import their adapters and build their SDK clients in a worker thread (the event loop
    stays free); the providers prepared. What fails is left for the first step to report."""
    providers = configured_providers()
    if providers:
        await asyncio.to_thread(_prepare_each, providers)
    return list(providers)


def _prepare_each(providers: dict[str, str]) -> None:
    for prefix, module_name in providers.items():
        with contextlib.suppress(ImportError, TroupeError):
            prepare = getattr(importlib.import_module(module_name), "prepare", None)
            if prepare is not None:
                prepare(prefix)
