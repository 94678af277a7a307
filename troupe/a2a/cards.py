"""An agent's A2A card: who it is (name, description), what it can do (a skill per tool),
where it answers (its JSON-RPC endpoint, for A2A 1.0 and 0.3 clients) and, when the server
has an API key, that the endpoint wants it as a bearer token."""

from a2a.types.a2a_pb2 import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentProvider,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)

from troupe import __version__
from troupe.store import Database
from troupe.store import agents as agent_store
from troupe.store.attachments import tools_of_agents
from troupe.store.tables import AgentRow, ToolRow

SCHEME = "bearer"  # the name of the card's one security scheme
TEXT_MODES = ["text/plain", "application/json"]


def endpoint_path(agent_id: str) -> str:
    return f"/a2a/agents/{agent_id}"


async def agent_card(db: Database, agent_id: str, base_url: str, *, secured: bool) -> AgentCard:
    """The card of the agent (NotFound if there is none), served from `base_url`."""
    async with db.read() as session:
        agent = await agent_store.get_agent_row(session, agent_id)
        tools = (await tools_of_agents(session, [agent_id])).get(agent_id, [])
    url = base_url.rstrip("/") + endpoint_path(agent_id)
    card = AgentCard(
        name=agent.name,
        description=agent.description or f"troupe agent {agent.name}",
        version=__version__,
        supported_interfaces=[
            AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version=version)
            for version in ("1.0", "0.3")
        ],
        provider=AgentProvider(organization="troupe", url=base_url.rstrip("/")),
        capabilities=AgentCapabilities(streaming=True, push_notifications=False),
        default_input_modes=TEXT_MODES,
        default_output_modes=["text/plain"],
        skills=_skills(agent, tools),
    )
    if secured:
        card.security_schemes[SCHEME].CopyFrom(
            SecurityScheme(
                http_auth_security_scheme=HTTPAuthSecurityScheme(
                    scheme="Bearer",
                    description="the troupe server's API key (TROUPE_API_KEY)",
                )
            )
        )
        card.security_requirements.append(SecurityRequirement(schemes={SCHEME: StringList()}))
    return card


def _skills(agent: AgentRow, tools: list[ToolRow]) -> list[AgentSkill]:
    """A skill per tool; an agent with no tools still converses, its one skill."""
    if not tools:
        return [
            AgentSkill(
                id="converse",
                name=agent.name,
                description=agent.description or "talks with its memory",
                tags=["conversation"],
            )
        ]
    return [
        AgentSkill(
            id=tool.name,
            name=tool.name,
            description=(tool.description or tool.name).strip(),
            tags=[tool.tool_type, *[str(tag) for tag in tool.tags or []]],
        )
        for tool in tools
    ]
