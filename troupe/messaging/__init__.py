"""Cross-agent messaging: the tools agents message each other with (registered into the
tool registry at start-up) and the durable mailbox's dispatcher."""
