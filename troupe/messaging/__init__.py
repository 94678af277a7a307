"""Cross-agent delivery and the per-agent serial queue."""
