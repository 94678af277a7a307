"""What a user tool finds in its environment: how to reach this server as its agent."""


def tool_environment(*, server_url: str, agent_id: str, token: str) -> dict[str, str]:
    """`Letta(base_url=os.environ["TROUPE_URL"], api_key=os.environ["TROUPE_API_KEY"])` works
    inside a tool; the LETTA_* names serve tools written for Letta."""
    return {
        "TROUPE_URL": server_url,
        "TROUPE_AGENT_ID": agent_id,
        "TROUPE_API_KEY": token,
        "LETTA_BASE_URL": server_url,
        "LETTA_AGENT_ID": agent_id,
        "LETTA_API_KEY": token,
    }
