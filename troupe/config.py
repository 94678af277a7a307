"""Settings from the environment (`TROUPE_*`), with defaults that work on a fresh machine."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8283


def default_data_dir() -> Path:
    """`$TROUPE_HOME`, else `$XDG_DATA_HOME/troupe`, else `~/.local/share/troupe`."""
    if home := os.environ.get("TROUPE_HOME"):
        return Path(home)
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "troupe"


def normalize_database_url(url: str) -> str:
    """Accept the plain URLs people paste (`postgresql://`, `sqlite:///`) and pick async drivers."""
    for plain, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@dataclass(frozen=True)
class MessagingSettings:
    """Limits of cross-agent messaging. Every wait is bounded."""

    reply_timeout_s: float = 120.0  # send-and-wait, and each broadcast target
    broadcast_concurrency: int = 256  # targets of one broadcast running at once
    max_hops: int = 8  # agents in one synchronous chain (A -> B -> C ...)
    lease_s: float = 30.0  # how long a claimed delivery stays claimed without renewal
    max_attempts: int = 10  # deliveries that cannot even start are retried this often
    poll_s: float = 1.0  # the dispatcher looks even when nothing woke it
    dispatch_concurrency: int = 64  # deliveries in flight per process
    schedule_poll_s: float = 0.5  # the scheduler looks for due messages at least this often
    callback_timeout_s: float = 10.0  # a run's callback URL has this long to answer


@dataclass(frozen=True)
class WebSettings:
    """Limits of the built-in web tools (fetch_webpage, web_search)."""

    # Loopback, private, link-local and other non-public addresses are refused unless this is
    # on: a tool must not become a way into the server's own network.
    allow_private: bool = False
    timeout_s: float = 15.0  # one fetch, redirects included
    max_bytes: int = 2_000_000  # of the body read; the rest is not downloaded
    max_chars: int = 20_000  # of readable text handed to the model
    search_api_key: str = ""  # Exa's, the search provider Letta's web_search used
    search_url: str = "https://api.exa.ai"


@dataclass(frozen=True)
class A2ASettings:
    """Calls of send_message_to_a2a_agent to remote A2A agents (timeouts and hops: messaging's)."""

    # Like fetch_webpage, the tool reaches public addresses only unless this is on: the URL
    # comes from the model, so it must not become a way into the server's own network.
    allow_private: bool = False
    # Bearer tokens by URL prefix (the longest matching prefix wins), sent to those agents.
    bearer_tokens: tuple[tuple[str, str], ...] = ()

    def token_for(self, url: str) -> str | None:
        matching = [
            (len(prefix), token) for prefix, token in self.bearer_tokens if url.startswith(prefix)
        ]
        return max(matching)[1] if matching else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TROUPE_", extra="ignore")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite in the data directory."
    )
    api_key: str | None = Field(
        default=None, description="When set, every /v1 route needs `Authorization: Bearer <key>`."
    )
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024, description="Requests with a larger body get 413."
    )
    max_file_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1,
        description="Uploaded files (folders) larger than this get 413; bodies are also capped "
        "by max_body_bytes.",
    )
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = Field(
        default="NORMAL",
        description="SQLite `synchronous` pragma. NORMAL (WAL) survives a process crash; "
        "FULL also survives power loss at the cost of an fsync per commit.",
    )

    max_requests_in_flight: int = Field(
        default=1024,
        ge=1,
        description="Requests in progress at once; past it a request gets 503 and Retry-After.",
    )

    public_url: str | None = Field(
        default=None,
        description="How tools reach this server; default http://<host>:<port>.",
    )
    agent_queue_timeout: float = Field(
        default=300.0,
        description="How long a request waits for a busy agent before 503 and Retry-After.",
    )
    tool_timeout: float = Field(default=30.0, description="Wall-clock limit of one user tool call.")
    tool_memory_mb: int = Field(default=512, ge=16, description="Memory of each tool process.")
    tool_max_processes: int = Field(
        default=64, ge=1, description="Processes one tool call may run."
    )
    tool_max_disk_mb: int = Field(
        default=1024,
        ge=1,
        description="Free disk space one tool call may use up before it is stopped.",
    )
    mcp_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds one MCP tool call (or listing of a server's tools) may take; past "
        "it the call fails with a tool error and the server's session is started afresh.",
    )
    mcp_connect_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to start or reach an MCP server and initialize."
    )
    reply_timeout: float = Field(
        default=120.0, description="How long send-and-wait (and each broadcast target) waits."
    )
    broadcast_concurrency: int = Field(default=256, ge=1, description="Broadcast targets at once.")
    max_hops: int = Field(default=8, ge=1, description="Agents in one synchronous call chain.")
    dispatch_concurrency: int = Field(
        default=64, ge=1, description="Mailbox deliveries one process works on at once."
    )
    delivery_lease: float = Field(
        default=30.0, gt=0, description="Seconds a claimed delivery stays claimed unrenewed."
    )
    run_stale_after: float = Field(
        default=30.0,
        gt=0,
        description="Seconds without a heartbeat after which a running run is taken as "
        "orphaned (on PostgreSQL a dead process's runs are taken over sooner, by its lock).",
    )
    mailbox_poll: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between the dispatcher's looks at the mailbox when nothing woke "
        "it (a send wakes it at once; the poll finds retries and expired leases, and renews "
        "this process's leases, so keep it well under the delivery lease).",
    )
    schedule_poll: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Seconds between the scheduler's looks for due scheduled messages (a new "
        "schedule wakes this process's scheduler at once; the poll is how another process's "
        "schedules are seen, so a due message fires within this time).",
    )
    stream_ping_interval: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="Seconds without an event after which a stream that asked for pings "
        "(`include_pings`, on by default as in Letta) sends a keepalive `ping`.",
    )
    callback_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a run's callback URL has to answer."
    )

    fetch_allow_private: bool = Field(
        default=False,
        description="Let fetch_webpage reach loopback and private addresses (an intranet, tests).",
    )
    fetch_timeout: float = Field(default=15.0, gt=0, description="Seconds one fetch may take.")
    fetch_max_bytes: int = Field(
        default=2_000_000, ge=1024, description="Bytes of a page fetch_webpage reads at most."
    )
    fetch_max_chars: int = Field(
        default=20_000, ge=100, description="Characters of readable text fetch_webpage returns."
    )

    a2a_allow_private: bool = Field(
        default=False,
        description="Let send_message_to_a2a_agent reach A2A agents on loopback and private "
        "addresses (agents on your own network, tests).",
    )
    a2a_bearer_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: URL prefix -> bearer token that send_message_to_a2a_agent "
        "sends to the A2A agents under that prefix (the longest prefix wins).",
    )

    def a2a(self) -> A2ASettings:
        return A2ASettings(
            allow_private=self.a2a_allow_private,
            bearer_tokens=tuple(sorted(self.a2a_bearer_tokens.items())),
        )

    def web(self) -> WebSettings:
        search = ProviderVariables()
        return WebSettings(
            allow_private=self.fetch_allow_private,
            timeout_s=self.fetch_timeout,
            max_bytes=self.fetch_max_bytes,
            max_chars=self.fetch_max_chars,
            search_api_key=search.exa_api_key,
            search_url=(search.exa_base_url or WebSettings.search_url).rstrip("/"),
        )

    summary_model: str = Field(
        default="",
        description="Model handle that summarises the history evicted from agents' context "
        "windows; empty: each agent's own model. An agent's `compaction_settings.model` wins.",
    )
    summary_keep: float = Field(
        default=0.3,
        gt=0,
        lt=1,
        description="Share of the history budget an agent keeps in context after a summary "
        "(Letta's `sliding_window_percentage`; an agent's own setting wins).",
    )

    def messaging(self) -> MessagingSettings:
        return MessagingSettings(
            reply_timeout_s=self.reply_timeout,
            broadcast_concurrency=self.broadcast_concurrency,
            max_hops=self.max_hops,
            lease_s=self.delivery_lease,
            poll_s=self.mailbox_poll,
            dispatch_concurrency=self.dispatch_concurrency,
            schedule_poll_s=self.schedule_poll,
            callback_timeout_s=self.callback_timeout,
        )

    def server_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        return f"http://{host}:{self.port}"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalize_database_url(self.database_url)
        data_dir = default_data_dir()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # its owner's alone
        return f"sqlite+aiosqlite:///{data_dir / 'troupe.db'}"


class ModelSettings(BaseSettings):
    """How troupe calls models. Built where a model is resolved or loaded, so the
    environment of that moment counts (a test sets it for a server process it starts)."""

    model_config = SettingsConfigDict(env_prefix="TROUPE_", extra="ignore")

    model_timeout: float = Field(default=120.0, description="Seconds per provider request.")
    model_max_retries: int = Field(
        default=3, description="Retries (with backoff, on 429/5xx/timeouts) per provider request."
    )
    local_threads: int | None = Field(
        default=None,
        description="llama.cpp threads for the embedded model; unset (or not a positive "
        "number): every core but one.",
    )
    embedding_threads: int | None = Field(
        default=None,
        description="onnxruntime threads for the embedded embedder; unset: every core.",
    )
    enable_test_models: bool = Field(
        default=False,
        description="`1` lets `test/function:<module>:<callable>` handles import code "
        "(tests only).",
    )

    @field_validator("local_threads", "embedding_threads", mode="before")
    @classmethod
    def _positive_or_unset(cls, value: object) -> int | None:
        text = str(value).strip() if value is not None else ""
        return int(text) if text.isdigit() and int(text) > 0 else None

    @field_validator("enable_test_models", mode="before")
    @classmethod
    def _exactly_one(cls, value: object) -> bool:
        return value is True or value == "1"  # nothing else turns code import by name on


class ProviderVariables(BaseSettings):
    """The variables people already set for each provider's service, read under their usual
    names (no TROUPE_ prefix). `troupe.llm.providers` names, per provider, which it uses;
    an empty value counts as unset."""

    model_config = SettingsConfigDict(extra="ignore")

    openai_api_key: str = ""
    openai_base_url: str = ""
    anthropic_api_key: str = ""
    anthropic_base_url: str = ""
    openrouter_api_key: str = ""
    openrouter_base_url: str = ""
    ollama_api_key: str = ""
    ollama_base_url: str = ""
    vllm_api_key: str = ""
    vllm_base_url: str = ""
    lmstudio_api_key: str = ""
    lmstudio_base_url: str = ""
    llamacpp_api_key: str = ""
    llamacpp_base_url: str = ""
    # The web_search tool's provider (Exa, as in Letta).
    exa_api_key: str = ""
    exa_base_url: str = ""

    def value(self, variable: str) -> str:
        """The value of one variable, by its environment name (e.g. `OPENAI_API_KEY`)."""
        return str(getattr(self, variable.lower()))


class OtelVariables(BaseSettings):
    """The standard OpenTelemetry variables that decide whether troupe exports spans, and
    how (the SDK's exporters read the rest: endpoint paths, headers, timeouts, TLS).
    Nothing set: no exporter, and tracing costs nothing."""

    model_config = SettingsConfigDict(extra="ignore")

    otel_sdk_disabled: str = ""
    otel_traces_exporter: str = ""
    otel_exporter_otlp_endpoint: str = ""
    otel_exporter_otlp_traces_endpoint: str = ""
    otel_exporter_otlp_protocol: str = ""
    otel_exporter_otlp_traces_protocol: str = ""
    otel_service_name: str = ""
    # The GenAI conventions' opt-in to message content on spans (prompts, answers, tool
    # arguments and results): off unless set to true.
    otel_instrumentation_genai_capture_message_content: str = ""

    def traces_exporter(self) -> Literal["otlp", "console"] | None:
        """`otlp` or `console` when spans are to be exported, else None. An endpoint alone
        turns OTLP on; `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turn it off."""
        if self.otel_sdk_disabled.strip().lower() == "true":
            return None
        named = {n.strip().lower() for n in self.otel_traces_exporter.split(",") if n.strip()}
        if "none" in named:
            return None
        if "otlp" in named:
            return "otlp"
        if "console" in named:
            return "console"
        endpoint = self.otel_exporter_otlp_traces_endpoint or self.otel_exporter_otlp_endpoint
        return "otlp" if endpoint.strip() else None

    def protocol(self) -> Literal["grpc", "http/protobuf"]:
        chosen = self.otel_exporter_otlp_traces_protocol or self.otel_exporter_otlp_protocol
        return "grpc" if chosen.strip().lower() == "grpc" else "http/protobuf"

    def service_name(self) -> str:
        return self.otel_service_name.strip() or "troupe"

    def capture_content(self) -> bool:
        return self.otel_instrumentation_genai_capture_message_content.strip().lower() == "true"
