"""The provider table: what each prefix resolves to, and where its settings come from."""

import subprocess
import sys

import pytest

from troupe.config import ModelSettings, ProviderVariables
from troupe.errors import InvalidInput
from troupe.llm.base import ModelNotConfigured
from troupe.llm.handles import llm_config_for, parse_handle
from troupe.llm.providers import PROVIDERS, endpoint_for
from troupe.llm.registry import resolve_model

ALL_PROVIDER_VARIABLES = [
    name
    for provider in PROVIDERS.values()
    for name in (provider.base_url_variable, provider.key_variable)
    if name
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ALL_PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("TROUPE_MODEL_TIMEOUT", "TROUPE_MODEL_MAX_RETRIES", "TROUPE_LOCAL_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TROUPE_ENABLE_TEST_MODELS", raising=False)
    return monkeypatch


def test_every_variable_the_table_names_is_read_by_the_settings(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for name in ALL_PROVIDER_VARIABLES:
        clean_env.setenv(name, f"value of {name}")
    variables = ProviderVariables()
    assert {name: variables.value(name) for name in ALL_PROVIDER_VARIABLES} == {
        name: f"value of {name}" for name in ALL_PROVIDER_VARIABLES
    }


def test_importing_the_table_and_resolver_pulls_in_no_vendor_sdk() -> None:
    code = (
        "import sys, troupe.llm.registry, troupe.llm.handles; "
        "print([m for m in sys.modules if m.split('.')[0] in {'openai', 'anthropic', 'llama_cpp'}])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_missing_key_says_which_variable_to_set(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotConfigured, match="set OPENAI_API_KEY to use openai/"):
        endpoint_for("openai")
    with pytest.raises(ModelNotConfigured, match="set ANTHROPIC_API_KEY to use anthropic/"):
        endpoint_for("anthropic")
    clean_env.setenv("OPENROUTER_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(ModelNotConfigured, match="set OPENROUTER_API_KEY"):
        endpoint_for("openrouter")


def test_a_base_url_of_ones_own_needs_no_openai_or_anthropic_key(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    clean_env.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    assert endpoint_for("openai").api_key == "not-needed"
    assert endpoint_for("anthropic").base_url == "http://127.0.0.1:9"


def test_self_hosted_servers_default_to_their_usual_port_and_the_model_knobs_apply(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("TROUPE_MODEL_TIMEOUT", "1.5")
    clean_env.setenv("TROUPE_MODEL_MAX_RETRIES", "0")
    endpoint = endpoint_for("ollama")
    assert endpoint.base_url == "http://127.0.0.1:11434/v1"
    assert (endpoint.timeout_s, endpoint.max_retries) == (1.5, 0)
    clean_env.setenv("OLLAMA_BASE_URL", "http://gpu-box:11434/v1")
    assert endpoint_for("ollama").base_url == "http://gpu-box:11434/v1"


def test_local_threads_ignores_what_is_not_a_positive_number(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for value, expected in (("3", 3), (" 2 ", 2), ("0", None), ("many", None), ("", None)):
        clean_env.setenv("TROUPE_LOCAL_THREADS", value)
        assert ModelSettings().local_threads == expected


def test_only_exactly_1_enables_test_models_that_import_code(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for value in ("true", "yes", "0", ""):
        clean_env.setenv("TROUPE_ENABLE_TEST_MODELS", value)
        with pytest.raises(ModelNotConfigured, match="TROUPE_ENABLE_TEST_MODELS=1"):
            resolve_model(f"test/function:tests.support.models:worker@{len(value)}ms")
    clean_env.setenv("TROUPE_ENABLE_TEST_MODELS", "1")
    assert resolve_model("test/function:tests.support.models:worker").handle.endswith("worker")


def test_handles_name_a_known_provider_and_get_its_llm_config() -> None:
    assert parse_handle("openai/gpt-4.1-mini") == ("openai", "gpt-4.1-mini")
    with pytest.raises(InvalidInput, match="not a handle"):
        parse_handle("gpt-4")
    with pytest.raises(InvalidInput, match="unknown model provider 'nope'"):
        parse_handle("nope/x")
    local = llm_config_for("local/smollm2-135m")
    assert (local.model_endpoint_type, local.context_window, local.temperature) == (
        "llamacpp",
        8192,
        0.2,
    )
    assert llm_config_for("openrouter/x", context_window=4096).context_window == 4096
