// Small DOM helpers: elements are built with h(), and text always goes in as text nodes
// (never innerHTML), so whatever agents and users wrote cannot inject markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const link = (href, text, attrs = {}) => h("a", { href, ...attrs }, text);

export const agentLink = (id, name) => link(`#/agents/${encodeURIComponent(id)}`, name || id);

export function chip(text, attrs = {}) {
  return h("span", { class: `chip ${attrs.class || ""}`.trim(), ...attrs }, text);
}

export function badge(status) {
  return h("span", { class: `badge badge-${status || "none"}` }, status || "—");
}

// A run its step limit stopped did not finish its work: never shown as a plain "completed".
export const STEP_LIMIT_NOTE = "Stopped at its step limit (max_steps) before the agent finished: raise max_steps or look at what it kept doing.";

// The stop reasons that fail a run (troupe/schemas/stop_reasons.py): Letta's, by cause.
export const FAILING_STOP_REASONS = new Set(["error", "llm_api_error", "invalid_llm_response", "max_tokens_exceeded"]);

export function runBadge(run) {
  if (run.stop_reason !== "max_steps") return badge(run.status);
  return h("span", { class: "badge badge-max-steps", title: STEP_LIMIT_NOTE }, "stopped: max steps");
}

export function stopReason(reason) {
  if (reason !== "max_steps") return reason || "—";
  return h("span", { class: "stop-max-steps", title: STEP_LIMIT_NOTE }, "max_steps ⚠");
}

export function empty(text, ...more) {
  return h("div", { class: "empty", role: "status" }, h("p", {}, text), ...more);
}

export function errorBox(error) {
  const title = error && error.status ? `The server answered ${error.status}` : "Something went wrong";
  return h("div", { class: "error", role: "alert" }, h("strong", {}, title), h("p", {}, messageOf(error)));
}

export function messageOf(error) {
  if (!error) return "";
  return error.detail || error.message || String(error);
}

export function loading(text = "Loading…") {
  return h("p", { class: "loading", role: "status" }, text);
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, rows),
  );
}

const TIME = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "medium",
});

export function time(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const date = new Date(iso);
  return h("time", { datetime: iso, title: TIME.format(date) }, relative(date));
}

export function relative(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return TIME.format(date);
}

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);

// A JSON object as a two-column table, a list of objects as a table with a column per key;
// anything else as preformatted text.
export function keyValues(value) {
  if (Array.isArray(value) && value.length && value.every(isObject)) {
    const keys = [...new Set(value.flatMap((item) => Object.keys(item)))];
    return table(keys, value.map((item) => h("tr", {}, keys.map((k) => h("td", {}, k in item ? plain(item[k]) : "")))), { class: "rows" });
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const rows = Object.entries(value).map(([key, v]) =>
      h("tr", {}, h("th", { scope: "row" }, key), h("td", {}, plain(v))),
    );
    return h("table", { class: "kv" }, h("tbody", {}, rows));
  }
  return h("pre", { class: "text" }, plain(value));
}

function plain(value) {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== "object")) return value.join(", ");
  return JSON.stringify(value, null, 2);
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
