"""Tool registry: schemas from source, the built-in tools, and (later) the sandbox runner."""
