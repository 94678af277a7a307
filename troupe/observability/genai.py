"""Names of the OpenTelemetry GenAI semantic conventions troupe writes (gen_ai.* spans), and
how a troupe model handle maps onto them."""

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
AGENT_ID = "gen_ai.agent.id"
AGENT_NAME = "gen_ai.agent.name"
CONVERSATION_ID = "gen_ai.conversation.id"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
FINISH_REASONS = "gen_ai.response.finish_reasons"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_RESULT = "gen_ai.tool.call.result"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
ERROR_TYPE = "error.type"

# troupe's own ids, so a span leads back to the run, step and trace view.
RUN_ID = "troupe.run.id"
STEP_ID = "troupe.step.id"
TRACE_ID = "troupe.trace.id"

# A handle's prefix as the conventions' well-known provider names spell it; other
# prefixes (ollama, vllm, test, ...) are written as they are.
_PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "local": "troupe.local"}


def provider_and_model(handle: str) -> tuple[str, str]:
    """`openai/gpt-4o-mini` -> (`openai`, `gpt-4o-mini`); a handle without a prefix is its
    own model of an unknown provider."""
    prefix, slash, model = handle.partition("/")
    if not slash:
        return "unknown", handle
    return _PROVIDERS.get(prefix, prefix), model
