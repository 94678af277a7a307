"""Model handles to model objects through the provider table: the adapter is imported on
first use (importing this module pulls in no vendor SDK), one instance per handle."""

import importlib
import threading
from collections.abc import Callable

from troupe.llm import stored_keys
from troupe.llm.base import Model, ModelNotConfigured
from troupe.llm.handles import parse_handle, runs_on
from troupe.llm.providers import PROVIDERS

_models: dict[str, Model] = {}
_lock = threading.Lock()
_keys_version = stored_keys.version()  # of the keys the cached models were built with


def resolve_model(handle: str) -> Model:
    global _keys_version
    model = _models.get(handle)
    if model is not None and _keys_version == stored_keys.version():
        return model
    with _lock:
        if _keys_version != stored_keys.version():  # a stored key changed: build afresh
            _models.clear()
            _keys_version = stored_keys.version()
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
