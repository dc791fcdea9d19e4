/** Tensor requests: one per tensor, answered once, timed out, cached in an LRU, dropped with their run. */
import * as assert from "node:assert/strict";
import { tensorKey } from "../../core/protocol";
import { LruCache } from "../../webview/lru";
import { TensorClient, toTensor } from "../../webview/tensorClient";
import { FakeHost, FakeTimers } from "./fakeHost";

function setup(cacheBytes = 1 << 20) {
  const host = new FakeHost();
  const timers = new FakeTimers();
  const client = new TensorClient(host, { timeoutMs: 1000, cacheBytes, setTimer: timers.set, clearTimer: timers.clear });
  return { host, timers, client };
}

const bytes = (values: number[]): ArrayBuffer => Float64Array.from(values).buffer;

describe("webview tensor client", () => {
  it("requests a tensor with trace/tensor and resolves it from the reply", async () => {
    const { host, client } = setup();
    const p = client.get(1, 7, "dinputs");
    const [req] = host.requests();
    assert.deepEqual(req?.params, { runId: 1, seq: 7, name: "dinputs" });
    assert.equal(client.handleReply({ kind: "reply", id: req!.id, result: { shape: [2, 2], data: bytes([0.44, -0.38, -0.07, 1.37]) } }), true);
    const t = await p;
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(Array.from(t.data), [0.44, -0.38, -0.07, 1.37]);
  });

  it("shares an in-flight request and serves the cache afterwards", async () => {
    const { host, client } = setup();
    const a = client.get(1, 0, "output");
    const b = client.get(1, 0, "output");
    assert.equal(host.requests().length, 1);
    client.handleReply({ kind: "reply", id: host.requests()[0]!.id, result: { shape: [1], data: bytes([3]) } });
    assert.equal(await a, await b);
    const c = await client.get(1, 0, "output");
    assert.equal(host.requests().length, 1, "a cached tensor is not requested again");
    assert.equal(c.data[0], 3);
    assert.equal(client.peek(1, 0, "output")?.data[0], 3);
  });

  it("rejects when the host answers with an error, and when the bytes do not match the shape", async () => {
    const { host, client } = setup();
    const a = client.get(1, 0, "x");
    const b = client.get(1, 1, "y");
    const [ra, rb] = host.requests();
    client.handleReply({ kind: "reply", id: ra!.id, error: "no tensor x for call 0" });
    client.handleReply({ kind: "reply", id: rb!.id, result: { shape: [2, 2], data: bytes([1, 2, 3]) } });
    await assert.rejects(a, /no tensor x for call 0/);
    await assert.rejects(b, /24 bytes, expected 32/);
    assert.equal(client.cache.size, 0);
  });

  it("times out a request the host never answers, and ignores the late reply", async () => {
    const { host, timers, client } = setup();
    const p = client.get(1, 0, "dweights");
    timers.advance(999);
    assert.equal(client.pendingCount, 1);
    timers.advance(1);
    await assert.rejects(p, /no answer for dweights of call 0 after 1 s/);
    assert.equal(client.pendingCount, 0);
    assert.equal(client.handleReply({ kind: "reply", id: host.requests()[0]!.id, result: { shape: [1], data: bytes([1]) } }), false);
    // The next ask makes a fresh request.
    void client.get(1, 0, "dweights").catch(() => undefined);
    assert.equal(host.requests().length, 2);
  });

  it("answers each request once: a second reply with the same id is ignored", async () => {
    const { host, client } = setup();
    const p = client.get(1, 0, "a");
    const id = host.requests()[0]!.id;
    assert.equal(client.handleReply({ kind: "reply", id, result: { shape: [1], data: bytes([1]) } }), true);
    assert.equal(client.handleReply({ kind: "reply", id, result: { shape: [1], data: bytes([2]) } }), false);
    assert.equal((await p).data[0], 1);
  });

  it("drops a replaced run: its pending requests reject and its tensors leave the cache", async () => {
    const { host, timers, client } = setup();
    const old = client.get(1, 0, "a");
    void client.get(2, 0, "a").catch(() => undefined);
    const [r1, r2] = host.requests();
    client.handleReply({ kind: "reply", id: r2!.id, result: { shape: [1], data: bytes([5]) } });
    client.dropRun(1);
    await assert.rejects(old, /the run was replaced/);
    assert.equal(timers.count, 0, "its timer is cleared");
    assert.equal(client.handleReply({ kind: "reply", id: r1!.id, result: { shape: [1], data: bytes([1]) } }), false);
    assert.deepEqual(client.cache.keys(), [tensorKey(2, 0, "a")]);
  });

  it("bounds the cache in bytes, evicting the least recently used tensor", async () => {
    const { host, client } = setup(3 * (8 * 100 + 64));
    const load = async (seq: number) => {
      const p = client.get(1, seq, "t");
      const req = host.requests().at(-1)!;
      client.handleReply({ kind: "reply", id: req.id, result: { shape: [100], data: new Float64Array(100).buffer } });
      return p;
    };
    await load(0);
    await load(1);
    await load(2);
    client.peek(1, 0, "t"); // touch 0: now 1 is the oldest
    await load(3);
    assert.deepEqual(client.cache.keys().sort(), ["1:0:t", "1:2:t", "1:3:t"]);
  });

  it("rejects at once when posting the request fails, leaving no timer behind", async () => {
    const { host, timers, client } = setup();
    host.post = () => {
      throw new Error("the panel is disposed");
    };
    await assert.rejects(client.get(1, 0, "a"), /the panel is disposed/);
    assert.equal(timers.count, 0);
    assert.equal(client.pendingCount, 0);
  });

  it("checks replies: shape of non-negative integers, exact byte count", () => {
    assert.equal(typeof toTensor({ shape: [-1], data: new ArrayBuffer(0) }), "string");
    assert.equal(typeof toTensor({ shape: [2], data: "xx" }), "string");
    assert.equal(typeof toTensor(null), "string");
    const ok = toTensor({ shape: [0, 3], data: new ArrayBuffer(0) });
    assert.notEqual(typeof ok, "string");
  });
});

describe("webview LRU cache", () => {
  it("evicts by count and by size, and a hit refreshes the entry", () => {
    const c = new LruCache<string, number>(10, (v) => v, 3);
    c.set("a", 1);
    c.set("b", 1);
    c.set("c", 1);
    assert.equal(c.get("a"), 1);
    c.set("d", 1); // count bound: b is the least recently used
    assert.deepEqual(c.keys(), ["c", "a", "d"]);
    c.set("e", 8); // size bound: 11 > 10 evicts c
    assert.deepEqual(c.keys(), ["a", "d", "e"]);
    assert.equal(c.weight, 10);
    c.set("huge", 11); // larger than the cache: not kept, nothing evicted
    assert.equal(c.has("huge"), false);
    assert.equal(c.size, 3);
    c.deleteWhere((k) => k !== "a");
    assert.deepEqual(c.keys(), ["a"]);
    assert.equal(c.weight, 1);
  });
});
