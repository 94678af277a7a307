// A memory block editor with version-aware save: PATCH /v1/blocks/{id} carries the version
// the editor was opened at, and a 409 shows what changed instead of overwriting it.
import { api } from "./api.js";
import { agentLink, chip, h, messageOf, replace } from "./dom.js";

// holders: the agents holding the block ([{id, name}]); selfId: the agent whose page this is.
export function blockEditor(block, { holders = [], selfId = null, onSaved = () => {} } = {}) {
  let base = block; // the version this edit started from
  const others = holders.filter((agent) => agent.id !== selfId);
  const textarea = h("textarea", {
    id: `block-${block.id}`,
    rows: Math.min(12, Math.max(3, block.value.split("\n").length + 1)),
    readOnly: block.read_only,
    spellcheck: false,
  });
  textarea.value = block.value;
  const version = h("span", { class: "chip version" });
  const count = h("span", { class: "chip count" });
  const save = h("button", { type: "submit", class: "primary", disabled: true }, "Save");
  const revert = h("button", { type: "button", disabled: true }, "Revert");
  const status = h("span", { class: "save-status", role: "status" });
  const conflict = h("div", { class: "conflict", role: "alert", hidden: true });

  function refresh() {
    const changed = textarea.value !== base.value;
    save.disabled = !changed || block.read_only;
    revert.disabled = !changed;
    version.textContent = `v${base.version}`;
    count.textContent = `${textarea.value.length} / ${base.limit} chars`;
    count.classList.toggle("over", textarea.value.length > base.limit);
  }

  async function patch(expectedVersion) {
    status.textContent = "Saving…";
    try {
      const saved = await api(`v1/blocks/${encodeURIComponent(block.id)}`, {
        method: "PATCH",
        body: { value: textarea.value, expected_version: expectedVersion },
      });
      base = saved;
      conflict.hidden = true;
      status.textContent = `Saved as v${saved.version}.`;
      refresh();
      onSaved(saved);
    } catch (error) {
      if (error.status === 409) return showConflict();
      status.textContent = "";
      replace(conflict, h("strong", {}, "Not saved"), h("p", {}, messageOf(error)));
      conflict.hidden = false;
    }
  }

  async function showConflict() {
    status.textContent = "Not saved: the block changed meanwhile.";
    const current = await api(`v1/blocks/${encodeURIComponent(block.id)}`);
    replace(
      conflict,
      h("strong", {}, `Conflict: someone changed “${block.label}” since you opened it`),
      h("p", {}, `You edited v${base.version}; it is now v${current.version}. Its current value:`),
      h("pre", { class: "text theirs" }, current.value),
      h("p", {}, "Your edit is still in the box above. Nothing was overwritten."),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => useTheirs(current) }, "Take the current value"),
        h("button", { type: "button", class: "danger", onclick: () => patch(current.version) }, "Save mine over it"),
      ),
    );
    conflict.hidden = false;
    conflict.querySelector("button").focus();
  }

  function useTheirs(current) {
    base = current;
    textarea.value = current.value;
    conflict.hidden = true;
    status.textContent = `Showing v${current.version}.`;
    refresh();
    onSaved(current);
  }

  textarea.addEventListener("input", () => {
    status.textContent = "";
    refresh();
  });
  revert.addEventListener("click", () => {
    textarea.value = base.value;
    status.textContent = "";
    refresh();
  });
  refresh();

  return h(
    "form",
    {
      class: "block",
      dataset: { blockId: block.id, label: block.label },
      onsubmit: (event) => {
        event.preventDefault();
        if (!save.disabled) patch(base.version);
      },
    },
    h(
      "div",
      { class: "block-head" },
      h("label", { for: textarea.id, class: "block-label" }, block.label),
      version,
      count,
      block.read_only ? chip("read-only") : null,
      holdersNote(selfId ? others : holders, selfId ? "with" : "by", holders.length > 1),
    ),
    block.description ? h("p", { class: "muted small" }, block.description) : null,
    textarea,
    h("div", { class: "actions" }, save, revert, status),
    conflict,
  );
}

// "shared with A, B" on an agent's page; "held by A" / "shared by A, B" on the blocks page.
function holdersNote(agents, preposition, shared) {
  if (!agents.length) return preposition === "by" ? h("span", { class: "muted small" }, "held by no agent") : null;
  return h(
    "span",
    { class: "shared" },
    shared ? chip("shared", { class: "shared-chip" }) : null,
    shared ? ` ${preposition} ` : "held by ",
    agents.map((agent, i) => [i ? ", " : "", agentLink(agent.id, agent.name)]),
  );
}
