// Every memory block with the agents that hold it, editable here too; and the team view:
// agents grouped by tags, with the shared blocks that connect them.
import { all, api } from "../api.js";
import { blockEditor } from "../blocks.js";
import { agentLink, chip, empty, errorBox, h, loading, plural, replace, section, table } from "../dom.js";
import { drawDiagram } from "../diagram.js";

async function agentsWithBlocks() {
  return api("v1/agents", { query: { limit: 1000, include: "agent.blocks", order: "asc" } });
}

function holdersByBlock(agents) {
  const holders = new Map();
  for (const agent of agents) {
    for (const block of agent.blocks) {
      if (!holders.has(block.id)) holders.set(block.id, []);
      holders.get(block.id).push({ id: agent.id, name: agent.name });
    }
  }
  return holders;
}

export async function blocksView(main) {
  document.title = "Blocks · troupe";
  replace(main, h("h1", {}, "Memory blocks"), loading());
  let blocks, agents;
  try {
    [blocks, agents] = await Promise.all([all("v1/blocks"), agentsWithBlocks()]);
  } catch (error) {
    replace(main, h("h1", {}, "Memory blocks"), errorBox(error));
    return;
  }
  const holders = holdersByBlock(agents);
  const shared = blocks.filter((b) => (holders.get(b.id) || []).length > 1).length;
  replace(
    main,
    h("h1", {}, "Memory blocks"),
    blocks.length
      ? [
          h("p", { class: "muted small" }, `${blocks.length} blocks, ${shared} shared by several agents. Saving checks the version: a change made meanwhile is shown, not overwritten.`),
          h("div", { class: "block-grid" }, blocks.map((block) => h("div", { class: "card" }, blockEditor(block, { holders: holders.get(block.id) || [] })))),
        ]
      : empty("No memory blocks yet. Agents get theirs at creation (memory_blocks), or share one made with POST /v1/blocks."),
  );
}

export async function teamView(main) {
  document.title = "Team · troupe";
  replace(main, h("h1", {}, "Team"), loading());
  let agents;
  try {
    agents = await agentsWithBlocks();
  } catch (error) {
    replace(main, h("h1", {}, "Team"), errorBox(error));
    return;
  }
  if (!agents.length) {
    replace(main, h("h1", {}, "Team"), empty("No agents yet."));
    return;
  }
  const groups = new Map();
  for (const agent of agents) {
    for (const tag of agent.tags.length ? agent.tags : [""]) {
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push(agent);
    }
  }
  const tags = [...groups.keys()].sort((a, b) => (a === "") - (b === "") || a.localeCompare(b));
  const holders = holdersByBlock(agents);
  const blocks = new Map(agents.flatMap((a) => a.blocks).map((b) => [b.id, b]));
  const shared = [...holders].filter(([, who]) => who.length > 1);
  const graph = h("div", { class: "diagram", id: "team-diagram" });
  replace(
    main,
    h("h1", {}, "Team"),
    h("p", { class: "muted small" }, "Agents grouped by tag (an agent with several tags is in each group), and the memory blocks they share."),
    h(
      "div",
      { class: "team-grid" },
      tags.map((tag) =>
        h(
          "section",
          { class: "card team", dataset: { tag } },
          h("h2", {}, tag ? chip(tag) : "untagged", h("span", { class: "muted small" }, ` ${plural(groups.get(tag).length, "agent")}`)),
          h("ul", { class: "plain" }, groups.get(tag).map((a) => h("li", {}, agentLink(a.id, a.name), " ", h("code", { class: "muted small" }, a.model)))),
        ),
      ),
    ),
    section(
      "Shared blocks",
      shared.length
        ? [
            table(
              ["Block", "Version", "Held by"],
              shared.map(([id, who]) => h("tr", {}, h("td", {}, h("strong", {}, blocks.get(id).label), h("div", { class: "muted small" }, h("code", {}, id))), h("td", {}, `v${blocks.get(id).version}`), h("td", {}, who.map((a, i) => [i ? ", " : "", agentLink(a.id, a.name)])))),
            ),
            graph,
          ]
        : empty("No block is shared: each agent's memory is its own."),
    ),
  );
  if (shared.length) await drawDiagram(graph, teamGraph(shared, blocks, agents), "Agents and the blocks they share");
}

const safe = (text) => text.replace(/["`<>#;]/g, "'");

function teamGraph(shared, blocks, agents) {
  const ids = new Map();
  const node = (id) => ids.get(id) ?? ids.set(id, `n${ids.size}`).get(id);
  const lines = ["flowchart LR"];
  const involved = new Set(shared.flatMap(([, who]) => who.map((a) => a.id)));
  for (const agent of agents.filter((a) => involved.has(a.id))) lines.push(`  ${node(agent.id)}["${safe(agent.name)}"]`);
  for (const [id, who] of shared) {
    lines.push(`  ${node(id)}[("${safe(blocks.get(id).label)}")]`);
    for (const agent of who) lines.push(`  ${node(agent.id)} --- ${node(id)}`);
  }
  return lines.join("\n");
}
