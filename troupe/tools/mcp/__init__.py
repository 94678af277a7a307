"""Tools from MCP servers: how troupe reaches them (stdio, SSE, streamable HTTP), a pool of
live sessions, and the runner the agent loop calls an MCP tool through."""
