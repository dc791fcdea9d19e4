/** The host ↔ webview guards: each side accepts exactly the messages of the protocol, well-formed. */
import * as assert from "node:assert/strict";
import { PROTOCOL_VERSION, isFromWebview, isToWebview } from "../../core/protocol";

describe("protocol guards", () => {
  it("the webview accepts the host's messages, well-formed, and nothing else", () => {
    const run = { runId: 1, file: "/m.ts", startedAt: 0 };
    for (const m of [
      { type: "session/ready", protocolVersion: PROTOCOL_VERSION },
      { type: "run/started", run },
      { type: "run/events", runId: 1, events: [{ type: "console", level: "log", text: "hi" }, { type: "a/future-event" }] },
      { type: "ui/reveal", layer: 0 },
      { type: "run/cleared" },
    ]) {
      assert.equal(isToWebview(m), true, m.type);
    }
    for (const m of [
      { type: "run/events", runId: 1, events: "nope" },
      { type: "run/events", runId: 1, events: [null] },
      { type: "run/events", events: [] },
      { type: "run/started" },
      { type: "run/call", runId: 1, call: {} },
      { type: "toString" },
      { type: "ui/ready", protocolVersion: PROTOCOL_VERSION },
      null,
      "run/events",
    ]) {
      assert.equal(isToWebview(m), false, JSON.stringify(m));
    }
  });

  it("the host accepts the webview's four messages, well-formed, and nothing else", () => {
    assert.equal(isFromWebview({ type: "ui/ready", protocolVersion: PROTOCOL_VERSION }), true);
    assert.equal(isFromWebview({ type: "ui/openSource", site: { file: "/m.ts", line: 3, column: 1 } }), true);
    assert.equal(isFromWebview({ type: "ui/runAgain" }), true);
    assert.equal(isFromWebview({ type: "ui/stop" }), true);
    assert.equal(isFromWebview({ type: "ui/openSource", site: { file: "/m.ts", line: "3" } }), false);
    assert.equal(isFromWebview({ type: "run/events", runId: 1, events: [] }), false);
    assert.equal(isFromWebview({ type: "constructor" }), false);
  });
});
