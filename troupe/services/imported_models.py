"""Which model and embedding an imported agent runs on. A file names a handle and an
endpoint; the endpoint is never used (a crafted file would otherwise send this server's
keys wherever it likes), and the handle is kept only when this server can run it: its
provider is configured here (a key or base URL set), or it is the embedded model. Any other
handle runs on the embedded model, so a file from Letta's servers gives an agent that
answers. A handle the request names wins over the file's."""

from typing import Any

from pydantic import ValidationError

from troupe.errors import InvalidInput
from troupe.llm.embeddings import config_for_handle
from troupe.llm.handles import DEFAULT_MODEL, llm_config_for, parse_handle
from troupe.llm.warm import configured_providers
from troupe.schemas.agent_file import AgentSchema
from troupe.schemas.common import EmbeddingConfig, LLMConfig
from troupe.schemas.summaries import CompactionSettings
from troupe.services.agent_settings import model_settings

# What a kept handle keeps of the file's llm_config: how it is asked, never where.
_KEPT_SETTINGS = ("context_window", "temperature", "max_tokens")


def runs_here(handle: str) -> bool:
    """Whether this server can run the model `handle` names with its own settings."""
    try:
        provider, model = parse_handle(handle)
    except InvalidInput:
        return False
    if provider == "local":
        return handle == DEFAULT_MODEL
    if provider == "test":  # test/function:... imports code by name: never from a file
        return not model.startswith("function:")
    return provider in configured_providers()


def file_handle(config: dict[str, Any] | None) -> str | None:
    """The handle a file's llm_config or embedding_config names, if any."""
    if not config:
        return None
    handle = config.get("handle")
    if isinstance(handle, str) and handle:
        return handle
    kind = config.get("model_endpoint_type") or config.get("embedding_endpoint_type")
    model = config.get("model") or config.get("embedding_model")
    return f"{kind}/{model}" if kind and model else None


def imported_model(agent: AgentSchema, override: str | None) -> tuple[str, LLMConfig]:
    """(handle, llm_config) of an imported agent."""
    if override:
        return model_settings(override, None, None)
    handle = file_handle(agent.llm_config) or agent.model
    if not handle or not runs_here(handle):
        return DEFAULT_MODEL, llm_config_for(DEFAULT_MODEL)
    config = llm_config_for(handle)
    given = agent.llm_config or {}
    kept = {k: given[k] for k in _KEPT_SETTINGS if isinstance(given.get(k), int | float)}
    return handle, config.model_copy(update=kept)


def imported_embedding(agent: AgentSchema, override: str | None) -> EmbeddingConfig | None:
    """The embedding of an imported agent: the request's, else the file's when this server
    serves its provider, else none (troupe's embedded embedder)."""
    return embedding_of_file(file_handle(agent.embedding_config) or agent.embedding, override)


def embedding_of_file(handle: str | None, override: str | None) -> EmbeddingConfig | None:
    """The embedding for a handle a file names: `override` when given, else that handle when
    this server serves its provider, else none (troupe's embedded embedder)."""
    if override:
        return config_for_handle(override)
    if not handle or handle.partition("/")[0] not in configured_providers():
        return None
    try:
        return config_for_handle(handle)
    except InvalidInput:
        return None


def imported_compaction(agent: AgentSchema) -> dict[str, Any] | None:
    """The file's compaction settings, checked; a summariser handle this server cannot run
    is dropped (the server's default summariser takes over)."""
    if not agent.compaction_settings:
        return None
    try:
        settings = CompactionSettings.model_validate(agent.compaction_settings)
    except ValidationError as exc:
        raise InvalidInput(
            f"agent file: agent {agent.name!r}: compaction_settings: {exc.errors()[0]['msg']}"
        ) from None
    kept = settings.model_dump(exclude_unset=True)
    if settings.model and not runs_here(settings.model):
        kept.pop("model")
    return kept
