"""Whether a run of the cookbook's workflow said sensible things, by rules a test can apply
(issue 20): the supervisor's broadcast carries the user's request, each worker's reply is a
sentence about its own task, and the supervisor's answer accounts for every worker."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from troupe.cookbook import team

# Words that say nothing of what the user asked about.
STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by can could do for from how i in is it its me my of on or our "
        "please so that the their them then there this to us was we what whats with you your "
        "all any some",
    )
)
SENTENCE = re.compile(r"^[A-Za-z][A-Za-z ]*\.$")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and len(w) > 1}


def _stem(word: str) -> str:
    return word[:5]  # "analysing" and "analyze", "reports" and "report" meet here


def mentions(text: str, wanted: set[str]) -> set[str]:
    """Which of the wanted words the text uses (compared by their first letters)."""
    said = {_stem(w) for w in words(text)}
    return {w for w in wanted if _stem(w) in said}


@dataclass
class Verdict:
    broadcast: str = ""
    replies: dict[str, str] = field(default_factory=dict)
    answer: str = ""
    faults: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.faults


def judge(request: str, broadcast: str, replies: dict[str, str], answer: str) -> Verdict:
    verdict = Verdict(broadcast, replies, answer)
    carried = mentions(broadcast, content_words(request))
    if len(carried) < 2:
        verdict.faults.append(f"the broadcast carries {sorted(carried)} of the request")
    tasks = {t["assigned_to"]: t for t in team.SEED_TASKS["active_tasks"]}
    reported = set()
    for worker, task in tasks.items():
        reply = replies.get(worker, "")
        if not SENTENCE.match(reply):
            verdict.faults.append(f"{worker}'s reply is not a sentence: {reply!r}")
        status = team.NEXT_STATUS.get(task["status"], task["status"])
        reported.add(status)
        about = content_words(task["description"]) | set(status.split("_")) - {"in", "not"}
        if not mentions(reply, about):
            verdict.faults.append(f"{worker}'s reply names neither its task nor its status")
    named = all(re.search(rf"\b{w}\b|\b{w.replace('_', ' ')}\b", answer) for w in tasks)
    spoken = answer.lower().replace("_", " ")
    statuses = all(s.replace("_", " ") in spoken for s in reported)
    if not (named or statuses):
        verdict.faults.append("the answer names neither every worker nor the statuses")
    return verdict


def judge_run(http: httpx.Client, supervisor_id: str, worker_ids: list[str]) -> Verdict:
    """The verdict on the newest exchange of a team, read from its agents' histories."""
    history = _history(http, supervisor_id)
    request = next(m["content"] for m in reversed(history) if m["message_type"] == "user_message")
    broadcast = ""
    for message in history:
        call = message.get("tool_call") or {}
        if message["message_type"] == "tool_call_message" and call.get("name") == team.BROADCAST:
            broadcast = str(json.loads(call["arguments"]).get("message", ""))
    answers = [m["content"] for m in history if m["message_type"] == "assistant_message"]
    replies = {}
    for worker_id in worker_ids:
        name = http.get(f"/v1/agents/{worker_id}").json()["name"]
        said = [m for m in _history(http, worker_id) if m["message_type"] == "assistant_message"]
        replies[name] = str(said[-1]["content"]) if said else ""
    return judge(request, broadcast, replies, str(answers[-1]) if answers else "")


def _history(http: httpx.Client, agent_id: str) -> list[dict[str, Any]]:
    reply = http.get(f"/v1/agents/{agent_id}/messages", params={"limit": 200})
    reply.raise_for_status()
    return list(reply.json())
