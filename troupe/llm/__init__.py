"""Models: one protocol, providers by handle prefix (`provider/model`), test models."""
