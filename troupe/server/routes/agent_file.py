"""Agent Files (`.af`): export an agent (with the agents it shares blocks with), import a file."""

import json
from typing import Annotated

from fastapi import File, Form, Header, Query, Request, Response, UploadFile

from troupe.errors import InvalidInput, TooLarge
from troupe.schemas.agent_file import ImportedAgents
from troupe.server.deps import DatabaseDep, RegistryDep
from troupe.server.responses import json_response
from troupe.server.routes.folders import IntakeDep
from troupe.server.routing import APIRouter
from troupe.server.sdk_line import serialization_context
from troupe.services.agent_file_export import export_agent_file
from troupe.services.agent_file_import import ImportOptions, import_agent_file
from troupe.services.agent_file_variables import form_variables

router = APIRouter(prefix="/v1/agents", tags=["agents"])

NameForm = Annotated[str | None, Form(max_length=250)]
HandleForm = Annotated[str | None, Form(max_length=512)]


@router.get("/{agent_id}/export")
async def export_agent(
    db: DatabaseDep,
    agent_id: str,
    scrub_messages: bool = False,
    use_legacy_format: bool = False,
    conversation_id: str | None = None,
    max_steps: int | None = None,
) -> Response:
    """The agent file, indented as Letta writes it. `max_steps` is accepted and has no
    effect, as in Letta."""
    if use_legacy_format:
        raise InvalidInput("troupe writes agent files in the current (v2) format only")
    agent_file = await export_agent_file(
        db, agent_id, scrub_messages=scrub_messages, conversation_id=conversation_id
    )
    body = json.dumps(agent_file.model_dump(mode="json"), indent=2)
    return Response(body, media_type="application/json")


@router.post("/import", response_model=ImportedAgents)
async def import_agents(
    request: Request,
    db: DatabaseDep,
    registry: RegistryDep,
    intake: IntakeDep,
    file: Annotated[UploadFile, File()],
    append_copy_suffix: Annotated[bool | None, Form()] = None,
    override_existing_tools: Annotated[bool | None, Form()] = None,
    strip_messages: Annotated[bool, Form()] = False,
    name: NameForm = None,
    override_name: NameForm = None,
    model: HandleForm = None,
    override_model_handle: HandleForm = None,
    embedding: HandleForm = None,
    override_embedding_handle: HandleForm = None,
    env_vars_json: Annotated[str | None, Form()] = None,
    secrets: Annotated[str | None, Form()] = None,
    project_id: Annotated[str | None, Form()] = None,
    allow_stdio_mcp_servers: Annotated[bool, Form()] = False,
    x_override_embedding_model: Annotated[str | None, Header(max_length=512)] = None,
    legacy_copy_suffix: Annotated[bool | None, Query(alias="append_copy_suffix")] = None,
    legacy_override_tools: Annotated[bool | None, Query(alias="override_existing_tools")] = None,
    legacy_project_id: Annotated[str | None, Query(alias="project_id")] = None,
) -> Response:
    """Import every agent of the file. letta-client 1.x sends the options as form fields,
    0.1.x as query parameters; 1.x is answered the new agents' ids, 0.1.x the first agent's
    state. `project_id` names a Letta Cloud project: accepted, with nothing to file it in.
    `secrets` (or the older `env_vars_json`): variables for every imported agent's tools.
    `allow_stdio_mcp_servers` (troupe's): create the file's stdio MCP servers too."""
    variables = form_variables(secrets, env_vars_json)
    limit: int = request.app.state.settings.max_body_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the agent file is larger than {limit} bytes")
    options = ImportOptions(
        override_existing_tools=_first(override_existing_tools, legacy_override_tools, True),
        strip_messages=strip_messages,
        append_copy_suffix=_first(append_copy_suffix, legacy_copy_suffix, False),
        name=name or override_name,
        model=model or override_model_handle,
        embedding=embedding or override_embedding_handle or x_override_embedding_model,
        allow_stdio_mcp_servers=allow_stdio_mcp_servers,
        variables=variables,
    )
    agents = await import_agent_file(db, registry, data, options, intake)
    if serialization_context() is not None:  # 0.1.x reads one AgentState
        return json_response(agents[0])
    return json_response(ImportedAgents(agent_ids=[a.id for a in agents]))


def _first(form: bool | None, query: bool | None, default: bool) -> bool:
    for value in (form, query):
        if value is not None:
            return value
    return default
