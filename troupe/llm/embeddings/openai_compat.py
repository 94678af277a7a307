"""Provider embeddings over the official `openai` SDK: OpenAI's `/v1/embeddings` and every
server that speaks it (Ollama, vLLM, LM Studio, llama.cpp's server, OpenRouter). The client
is the one the provider's chat models share (llm/openai_compat.py)."""

import openai

from troupe.llm.embeddings.base import EmbeddingError, check_dimension
from troupe.llm.openai_compat import error_detail, shared_client
from troupe.llm.providers import Endpoint

# Models whose `dimensions` parameter shortens their vectors (Matryoshka training).
SHORTENABLE = ("text-embedding-3-",)


class OpenAICompatibleEmbedder:
    def __init__(
        self, handle: str, model: str, endpoint: Endpoint, dimension: int | None, native: int | None
    ) -> None:
        """`dimension`: what the agent's config asks for; `native`: what the model gives."""
        self.handle = handle
        self.model = model
        self.endpoint = endpoint
        self._dimension = dimension or native
        self._ask_dimensions = bool(
            dimension and dimension != native and model.startswith(SHORTENABLE)
        )

    @property
    def dimension(self) -> int | None:
        return self._dimension

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        shorter = self._dimension if self._ask_dimensions and self._dimension else openai.omit
        try:
            answer = await shared_client(self.endpoint).embeddings.create(
                model=self.model, input=texts, encoding_format="float", dimensions=shorter
            )
        except openai.APIStatusError as exc:
            raise EmbeddingError(
                f"{self.handle}: the provider answered HTTP {exc.status_code}: {error_detail(exc)}"
            ) from None
        except openai.OpenAIError as exc:
            where = self.endpoint.base_url or "the OpenAI API"
            raise EmbeddingError(f"{self.handle}: embedding at {where} failed: {exc}") from None
        vectors = [list(d.embedding) for d in sorted(answer.data, key=lambda d: d.index)]
        if len(vectors) != len(texts):
            raise EmbeddingError(f"{self.handle}: {len(texts)} texts sent, {len(vectors)} vectors")
        self._dimension = check_dimension(self.handle, self._dimension, vectors)
        return vectors
