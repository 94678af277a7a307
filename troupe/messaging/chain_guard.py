"""The guard of send-and-wait chains: a call that would wait on an agent already waiting in
the chain is refused at once (it would deadlock), and so is one past the hop limit. A2A
calls, in and out, are held to it too."""

import json


def chain_refusal(
    chain: tuple[str, ...], target_id: str, target_name: str, max_hops: int
) -> str | None:
    """Why a synchronous call from the end of `chain` to the target is refused (as the tool's
    JSON error), or None."""
    if target_id in chain:
        path = " -> ".join([*chain, target_id])
        return json.dumps(
            {
                "error": "cycle",
                "detail": f"refused: {target_name} is already waiting in this chain "
                f"({path}); waiting on it would deadlock. Reply with send_message instead.",
                "chain": [*chain, target_id],
            }
        )
    if len(chain) >= max_hops:
        return json.dumps(
            {
                "error": "hop_limit",
                "detail": f"refused: this chain already has {len(chain)} agents waiting "
                f"(limit {max_hops})",
                "chain": list(chain),
            }
        )
    return None
