// Human in the loop in the chat: the calls an agent waits on (those of its newest step with
// no result yet, as the server tells them) get Approve and Deny buttons and a reason field.
import { h } from "./dom.js";

// Each waiting call with the message that asks for it ({message, call}): one request may
// ask for several calls the model made in parallel.
export function waitingCalls(messages) {
  const last = messages[messages.length - 1];
  if (!last || !last.step_id) return [];
  const answered = new Set(
    messages
      .filter((m) => m.message_type === "tool_return_message")
      .flatMap((m) => (m.tool_returns || [m]).map((r) => r.tool_call_id)),
  );
  return messages
    .filter((m) => m.message_type === "approval_request_message" && m.step_id === last.step_id)
    .flatMap((m) => (m.tool_calls || [m.tool_call]).map((call) => ({ message: m, call })))
    .filter(({ call }) => !answered.has(call.tool_call_id));
}

// onDecide(approve, reason) is called once, when a button is pressed.
export function approvalControls(onDecide) {
  const reason = h("input", {
    class: "approval-reason",
    placeholder: "Reason (optional: the agent reads it)",
    "aria-label": "Reason",
  });
  const box = h("div", { class: "approval-controls" });
  const decide = (approve) => {
    box.replaceChildren(h("span", { class: "muted small" }, approve ? "Approved." : "Denied."));
    onDecide(approve, reason.value.trim());
  };
  box.append(
    reason,
    h("button", { type: "button", class: "primary", onclick: () => decide(true) }, "Approve"),
    h("button", { type: "button", class: "danger", onclick: () => decide(false) }, "Deny"),
  );
  return box;
}
