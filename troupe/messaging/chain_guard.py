"""The guard of send-and-wait chains: a call that would wait on an agent already waiting in
the chain is refused at once (it would deadlock), and so is one past the hop limit."""

import json

from troupe.messaging.replies import Target


def refusal(chain: tuple[str, ...], target: Target, max_hops: int) -> str | None:
    if target.id in chain:
        path = " -> ".join([*chain, target.id])
        return json.dumps(
            {
                "error": "cycle",
                "detail": f"refused: {target.name} is already waiting in this chain "
                f"({path}); waiting on it would deadlock. Reply with send_message instead.",
                "chain": [*chain, target.id],
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
