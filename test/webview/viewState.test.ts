/** The persisted view state: versioned, validated, restored through the Host; the Host guards messages. */
import * as assert from "node:assert/strict";
import { PROTOCOL_VERSION } from "../../core/protocol";
import { createVsCodeHost, type MessageTarget, type VsCodeApi } from "../../webview/host";
import { VIEW_STATE_VERSION, defaultViewState, parseViewState } from "../../webview/viewState";

function fakeApi(): VsCodeApi & { state: unknown; sent: unknown[] } {
  const api = {
    state: undefined as unknown,
    sent: [] as unknown[],
    postMessage(m: unknown) {
      api.sent.push(m);
    },
    getState: () => api.state,
    setState(s: unknown) {
      api.state = s;
    },
  };
  return api;
}

function fakeWindow(): MessageTarget & { fire(data: unknown): void } {
  const listeners = new Set<(ev: MessageEvent) => void>();
  return {
    addEventListener: (_t, l) => void listeners.add(l),
    removeEventListener: (_t, l) => void listeners.delete(l),
    fire: (data) => {
      for (const l of listeners) l({ data } as MessageEvent);
    },
  };
}

describe("webview view state", () => {
  it("round-trips through setState/getState", () => {
    const api = fakeApi();
    const host = createVsCodeHost(api, fakeWindow());
    const s = { ...defaultViewState(), selectedStep: 2, selectedLayer: 1, zoom: 2, collapsed: [3], samples: { "3": 7 }, selectedElement: { layer: 0, seq: 5, tensor: "dweights", index: [1, 0] } };
    host.saveViewState(s);
    assert.deepEqual(host.loadViewState(), s);
  });

  it("drops a state of another version (the inspector starts from the defaults)", () => {
    const api = fakeApi();
    api.state = { v: VIEW_STATE_VERSION + 1, selectedStep: 3, zoom: 2 };
    assert.equal(createVsCodeHost(api, fakeWindow()).loadViewState(), undefined);
    assert.equal(parseViewState(undefined), undefined);
    assert.equal(parseViewState("x"), undefined);
  });

  it("drops malformed fields and clamps the zoom; never keeps data", () => {
    const s = parseViewState({ v: VIEW_STATE_VERSION, selectedStep: -1, zoom: 99, collapsed: [1, "x", 2.5], samples: { "1": 3, "2": "no" }, selectedElement: { layer: 0, seq: 1, tensor: "dinputs", index: ["a"] }, tensors: { big: [1, 2, 3] } });
    assert.deepEqual(s, { v: VIEW_STATE_VERSION, zoom: 4, collapsed: [1], samples: { "1": 3 }, outputOpen: false });
  });
});

describe("webview host", () => {
  it("passes only well-formed envelopes to the app", () => {
    const win = fakeWindow();
    const host = createVsCodeHost(fakeApi(), win);
    const got: unknown[] = [];
    const off = host.onMessage((e) => got.push(e));
    win.fire({ kind: "event", body: { type: "session/ready", protocolVersion: PROTOCOL_VERSION } });
    win.fire("<img src=x onerror=alert(1)>");
    win.fire({ kind: "bogus" });
    win.fire({ kind: "reply" });
    off();
    win.fire({ kind: "event", body: { type: "run/started" } });
    assert.equal(got.length, 1);
  });

  it("posts envelopes through the VS Code API", () => {
    const api = fakeApi();
    createVsCodeHost(api, fakeWindow()).post({ kind: "event", body: { type: "ui/ready", protocolVersion: PROTOCOL_VERSION } });
    assert.deepEqual(api.sent, [{ kind: "event", body: { type: "ui/ready", protocolVersion: PROTOCOL_VERSION } }]);
  });
});
