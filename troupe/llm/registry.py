"""Model handles to model objects: one prefix table, lazy imports (importing this module
pulls in no vendor SDK), one instance per handle."""

import importlib
import threading
from collections.abc import Callable

from troupe.llm.base import Model, ModelNotConfigured
from troupe.llm.handles import parse_handle

# provider prefix -> "module:factory"; the factory takes the full handle.
FACTORIES: dict[str, str] = {
    "openai": "troupe.llm.openai_compat:from_handle",
    "ollama": "troupe.llm.openai_compat:from_handle",
    "vllm": "troupe.llm.openai_compat:from_handle",
    "lmstudio": "troupe.llm.openai_compat:from_handle",
    "llamacpp": "troupe.llm.openai_compat:from_handle",
    "openrouter": "troupe.llm.openai_compat:from_handle",
    "anthropic": "troupe.llm.anthropic:from_handle",
    "local": "troupe.llm.local:LocalModel",
    "test": "troupe.llm.testing:from_handle",
}

_models: dict[str, Model] = {}
_lock = threading.Lock()


def resolve_model(handle: str) -> Model:
    model = _models.get(handle)
    if model is not None:
        return model
    with _lock:
        if handle not in _models:
            _models[handle] = _factory(handle)(handle)
        return _models[handle]


def _factory(handle: str) -> Callable[[str], Model]:
    provider, _ = parse_handle(handle)
    module_name, _, attribute = FACTORIES[provider].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelNotConfigured(
            f"model provider {provider!r} is not available in this installation ({exc.name} "
            "is missing); for the embedded model install `troupe[local]`"
        ) from None
    factory: Callable[[str], Model] = getattr(module, attribute)
    return factory
