"""Images sent to a model that cannot see them: refused before anything is stored or run.

A message's image parts would otherwise be stored and the run would start, only for the
model (the embedded one reads text only) to fail it, with the reason where letta-client 1.x
does not look. Images already in a history are another matter: the model is shown a
placeholder for each (troupe.llm.local.prompt), so they never fail a later turn."""

from troupe.errors import InvalidInput
from troupe.llm.handles import reads_images, runs_on
from troupe.store import Database
from troupe.store.agents import get_agent_row


async def refuse_images_unseen(db: Database, agent_id: str, model: str | None) -> None:
    """Refuse a message with images when the model it would run on cannot see them: `model`
    (the request's `override_model`, or its conversation's model), else the agent's own.
    Call it only for a message that holds images: it reads the agent."""
    if model is None:
        async with db.read() as session:
            handle = (await get_agent_row(session, agent_id)).model
        whose = "the agent's model"
    else:
        handle = model
        whose = "the model this message runs on (override_model, or the conversation's model)"
    if reads_images(handle):
        return
    served = handle if runs_on(handle) == handle else f"{handle}, served by {runs_on(handle)}"
    raise InvalidInput(
        f"model {served!r} ({whose}) does not accept images: it reads text only. Send the "
        "message without its image parts, or run it on a model that reads images (e.g. an "
        "openai/ or anthropic/ one); nothing was stored or run"
    )
