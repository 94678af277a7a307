// One readable element per Letta message type; cross-agent traffic reads "sender → receiver".
import { agentLink, h, keyValues, parseJson, time } from "./dom.js";

const CROSS_AGENT_TOOLS = new Set([
  "send_message_to_agent_async",
  "send_message_to_agent_and_wait_for_reply",
  "send_message_to_agents_matching_all_tags",
  "send_message_to_agents_matching_tags",
]);

const KIND = {
  user_message: "user",
  system_message: "system",
  assistant_message: "assistant",
  reasoning_message: "reasoning",
  tool_call_message: "tool call",
  tool_return_message: "tool return",
  approval_request_message: "needs approval",
  approval_response_message: "approval",
  error_message: "error",
};

// ctx: { self: {id, name}, names: Map(id -> name) }
export function renderMessage(message, ctx) {
  const type = message.message_type;
  const head = h(
    "header",
    {},
    h("span", { class: "kind" }, KIND[type] || type),
    route(message, ctx),
    message.date ? time(message.date) : null,
  );
  return h(
    "article",
    { class: `msg msg-${type}`, dataset: { type, id: message.id || "" } },
    head,
    body(message),
  );
}

function who(id, ctx) {
  if (!id) return h("span", {}, "user");
  if (ctx.self && id === ctx.self.id) return h("strong", {}, ctx.self.name);
  return agentLink(id, ctx.names.get(id) || id);
}

function self(ctx) {
  return ctx.self ? h("strong", {}, ctx.self.name) : h("span", {}, "agent");
}

function arrow(from, to) {
  return h("span", { class: "route" }, from, h("span", { class: "arrow", "aria-label": "to" }, " → "), to);
}

function route(message, ctx) {
  const type = message.message_type;
  if (type === "user_message" || type === "system_message") {
    if (message.sender_id) return arrow(who(message.sender_id, ctx), self(ctx));
    return type === "user_message" ? arrow(h("span", {}, "user"), self(ctx)) : null;
  }
  if (type === "assistant_message") return arrow(self(ctx), h("span", {}, "user"));
  if (type === "tool_call_message" && CROSS_AGENT_TOOLS.has(message.tool_call.name)) {
    const args = parseJson(message.tool_call.arguments);
    if (args && args.other_agent_id) return arrow(self(ctx), who(args.other_agent_id, ctx));
    const tags = [args?.tags, args?.match_all, args?.match_some].flat().filter(Boolean);
    return arrow(self(ctx), h("span", {}, `agents tagged ${tags.join(", ")}`));
  }
  return null;
}

function body(message) {
  switch (message.message_type) {
    case "reasoning_message":
      return h("p", { class: "text reasoning" }, message.reasoning);
    case "tool_call_message":
      return call(message.tool_call);
    case "approval_request_message":
      // Parallel calls that wait are one request: each shown, each answered on its own.
      return h("div", {}, (message.tool_calls || [message.tool_call]).map(call));
    case "approval_response_message":
      return h("ul", { class: "approvals" }, (message.approvals || []).map(answer));
    case "tool_return_message":
      return h(
        "div",
        {},
        h("span", { class: `badge badge-${message.status === "error" ? "failed" : "completed"}` }, message.status),
        keyValues(parseJson(message.tool_return)),
        message.stdout?.length ? h("pre", { class: "text stdout" }, message.stdout.join("")) : null,
        message.stderr?.length ? h("pre", { class: "text stderr" }, message.stderr.join("")) : null,
      );
    case "system_message":
      return message.sender_id ? delivered(message.content) : h("p", { class: "text" }, message.content);
    case "error_message":
      return h("p", { class: "text error-text" }, message.message);
    default:
      return h("p", { class: "text" }, message.content ?? "");
  }
}

// A tool call: its name and its arguments, one per line.
function call(toolCall) {
  const args = parseJson(toolCall.arguments);
  return h(
    "div",
    { "data-call": toolCall.tool_call_id },
    h("code", { class: "tool-name" }, toolCall.name),
    args && typeof args === "object" && Object.keys(args).length ? keyValues(args) : null,
  );
}

// One answer to a call that waited: approved or denied (with the reason), or a client's result.
function answer(item) {
  if (item.type === "tool") return h("li", {}, `result sent by the client (${item.status})`);
  const verdict = item.approve ? "approved" : "denied";
  return h(
    "li",
    {},
    h("span", { class: `badge badge-${item.approve ? "completed" : "failed"}` }, verdict),
    item.reason ? ` ${item.reason}` : "",
  );
}

// A cross-agent message as troupe delivers it: an envelope naming the sender (already shown
// as "sender → receiver"), what was sent, and a last line telling the receiver how to reply.
const ENVELOPE = /^\[Message from agent .*? \(agent-[^)]*\)\] ([\s\S]*)\n([^\n]*)$/;

function delivered(content) {
  const found = ENVELOPE.exec(content);
  if (!found) return h("p", { class: "text" }, content);
  return h("div", {}, h("p", { class: "text" }, found[1]), h("p", { class: "muted small hint" }, found[2]));
}
