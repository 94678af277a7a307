"""The embedder protocol: what archival memory needs from any embedding model."""

from typing import Protocol

from troupe.llm.base import ModelError


class Embedder(Protocol):
    """Turns texts into vectors of one dimension. Safe to share between concurrent callers."""

    handle: str

    @property
    def dimension(self) -> int | None:
        """The length of every vector; None until a provider that does not say has answered."""
        ...

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


class EmbeddingError(ModelError):
    """An embedding call failed for good, or answered with vectors of the wrong dimension."""


def check_dimension(handle: str, expected: int | None, vectors: list[list[float]]) -> int | None:
    """The vectors' one dimension; an error when they disagree with each other or `expected`."""
    sizes = {len(v) for v in vectors}
    if len(sizes) > 1 or (expected and sizes and sizes != {expected}):
        raise EmbeddingError(
            f"{handle} answered vectors of dimension {sorted(sizes)}, expected {expected}; "
            "set the agent's embedding_config.embedding_dim to what the model produces"
        )
    return next(iter(sizes), expected)
