"""Service functions: what each API operation does, independent of HTTP.

Routes parse and call exactly one of these; the CLI and the agent loop may call them too.
"""
