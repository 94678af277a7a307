"""Model handles to model objects through the provider table: the adapter is imported on
first use (importing this module pulls in no vendor SDK), one instance per handle."""

import importlib
import threading
from collections.abc import Callable

from troupe.llm.base import Model, ModelNotConfigured
from troupe.llm.handles import parse_handle, runs_on
from troupe.llm.providers import PROVIDERS

_models: dict[str, Model] = {}
_lock = threading.Lock()


def resolve_model(handle: str) -> Model:
    model = _models.get(handle)
    if model is not None:
        return model
    with _lock:
        if handle not in _models:
            _models[handle] = _factory(handle)(runs_on(handle))
        return _models[handle]


def _factory(handle: str) -> Callable[[str], Model]:
    provider, _ = parse_handle(handle)
    module_name, _, attribute = PROVIDERS[provider].adapter.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelNotConfigured(
            f"model provider {provider!r} is not available in this installation ({exc.name} "
            "is missing); for the embedded model install `troupe[local]`"
        ) from None
    factory: Callable[[str], Model] = getattr(module, attribute)
    return factory
