"""Agent2Agent (A2A): every troupe agent as an A2A agent (its card, and tasks that are its
runs), and the built-in tool that calls remote A2A agents. Built on the official `a2a-sdk`;
the HTTP side (routes, JSON-RPC framing) is in troupe.server.routes.a2a."""
