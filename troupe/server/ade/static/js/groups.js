// The groups an agent is in (members, manager type, who manages), and its sleep-time pairing:
// the agent's sleep-time agent, or, for a sleep-time agent, the primary whose memory it keeps.
import { api } from "./api.js";
import { agentLink, chip, empty, errorBox, h, replace } from "./dom.js";

const KINDS = {
  round_robin: "Round robin",
  supervisor: "Supervisor",
  dynamic: "Dynamic",
  sleeptime: "Sleep-time",
};

export async function loadGroups(container, agent, names) {
  try {
    const groups = await api(`v1/agents/${encodeURIComponent(agent.id)}/groups`);
    const name = (id) => agentLink(id, names.get(id));
    replace(container, pairing(agent, groups, name) || "", groups.length ? groups.map((g) => groupCard(g, agent.id, name)) : empty("Not in any group."));
  } catch (error) {
    replace(container, errorBox(error));
  }
}

function pairing(agent, groups, name) {
  const sleep = groups.find((g) => g.manager_type === "sleeptime");
  if (!sleep) return null;
  if (sleep.manager_agent_id === agent.id) {
    return h("p", { id: "sleeptime-pair", class: "small" }, "Sleep-time agent: ", ...sleep.agent_ids.map(name), ` (every ${sleep.sleeptime_agent_frequency || 1} turn${(sleep.sleeptime_agent_frequency || 1) === 1 ? "" : "s"})`);
  }
  return h("p", { id: "sleeptime-pair", class: "small" }, "Sleep-time agent of ", name(sleep.manager_agent_id));
}

function groupCard(group, selfId, name) {
  const settings = [
    group.max_turns ? `max_turns ${group.max_turns}` : null,
    group.termination_token ? `ends on “${group.termination_token}”` : null,
  ].filter(Boolean);
  return h(
    "div",
    { class: "group", dataset: { groupId: group.id, managerType: group.manager_type } },
    h("p", {}, chip(KINDS[group.manager_type] || group.manager_type), " ", h("code", { class: "small" }, group.id)),
    group.description ? h("p", { class: "small" }, group.description) : "",
    group.manager_agent_id ? h("p", { class: "small" }, "Manager: ", group.manager_agent_id === selfId ? "this agent" : name(group.manager_agent_id)) : "",
    h("p", { class: "small members" }, "Members: ", ...group.agent_ids.flatMap((id, i) => [i ? ", " : "", id === selfId ? "this agent" : name(id)])),
    settings.length ? h("p", { class: "muted small" }, settings.join(" · ")) : "",
  );
}
