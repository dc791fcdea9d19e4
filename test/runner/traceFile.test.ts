/**
 * Saving and restoring runs off the host's thread (traceFile.ts + dist/traceFile.js): incremental
 * encoding, the save limit (the run is kept without its tensors), atomic replacement, and a reader that
 * validates each event, skips bad ones and caps what it reads.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type TraceEvent, decodeTrace, encodeTrace } from "../../core/host";
import { TraceFiles } from "../../extension/runner/traceFile";
import { root } from "./helpers";

const stats = { size: 4, min: 0, max: 3, mean: 1.5, std: 1, norm: 3.7, nonFinite: 1, zeros: 1 };
const events = (values: number): TraceEvent[] => [
  { type: "run/start", version: 1, file: "/m.ts", startedAt: 5 },
  { type: "layer/new", layer: { id: 0, name: "dense1", kind: "dense", className: "Dense", description: "Dense(2, 2)", params: [], paramCount: 6 } },
  { type: "layer/call", call: { step: 0, seq: 0, layer: 0, phase: "forward", tensors: { output: { shape: [1, values], data: Float64Array.from({ length: values }, (_, i) => (i === 1 ? NaN : i)) } }, stats: { output: stats } } },
  { type: "step/summary", summary: { step: 0, loss: Infinity } },
  { type: "console", level: "log", text: "[x](command:y) <b>" },
];
const END: TraceEvent = { type: "run/end", ok: true, steps: 1, durationMs: 2, keptSteps: [0] };

describe("trace files: saved and restored off the host's thread", function () {
  this.timeout(30_000);
  let files: TraceFiles;
  let dir: string;
  beforeEach(() => {
    files = new TraceFiles(path.join(root, "dist", "traceFile.js"));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bpl-tracefile-"));
  });
  afterEach(() => files.dispose());

  async function read(file: string, maxBytes = 64 * 2 ** 20): Promise<{ events: TraceEvent[]; summary: Awaited<ReturnType<TraceFiles["read"]>>; header?: { file: string } }> {
    const got: TraceEvent[] = [];
    let header: { file: string } | undefined;
    const summary = await files.read(file, maxBytes, (h) => (header = h), (b) => got.push(...b));
    return { events: got, summary, ...(header ? { header } : {}) };
  }

  it("saves a run incrementally in the documented format and reads it back the same", async () => {
    const target = path.join(dir, "last-run.json");
    files.begin(1, target, "/m.ts", "test", new Date(0), 64 * 2 ** 20);
    for (const e of events(4)) files.add(1, e);
    const saved = await files.end(1, END);
    assert.equal(saved.light, false);
    const text = fs.readFileSync(target, "utf8");
    const trace = decodeTrace(text); // the documented reader takes it
    assert.deepEqual(trace.events.map((e) => e.type), ["run/start", "layer/new", "layer/call", "step/summary", "console", "run/end"]);
    assert.equal(text.split("\n").length, 9, "one event per line");
    const back = await read(target);
    assert.equal(back.header?.file, "/m.ts");
    assert.equal(back.summary.skipped, 0);
    const call = back.events.find((e) => e.type === "layer/call");
    assert.ok(call?.type === "layer/call");
    const data = call.call.tensors.output?.data;
    assert.ok(data instanceof Float64Array && Number.isNaN(data[1]) && data[3] === 3);
    assert.ok(back.events.some((e) => e.type === "step/summary" && e.summary.loss === Infinity));
    assert.equal(back.events[back.events.length - 1]?.type, "run/end");
  });

  it("over the save limit, the saved run is the one that ended, without its tensors, and says why", async () => {
    const target = path.join(dir, "last-run.json");
    fs.writeFileSync(target, "an older run");
    files.begin(2, target, "/big.ts", "test", new Date(0), 4096);
    for (const e of events(5000)) files.add(2, e);
    const saved = await files.end(2, { type: "run/end", ok: false, steps: 1, durationMs: 2, keptSteps: [0], error: { kind: "timeout", message: "t" } });
    assert.equal(saved.light, true);
    const trace = decodeTrace(fs.readFileSync(target, "utf8"));
    assert.equal(trace.file, "/big.ts");
    assert.ok(!trace.events.some((e) => e.type === "layer/call"));
    assert.ok(trace.events.some((e) => e.type === "anomaly" && /were more than the 0 MB that is kept/.test(e.anomaly.message)));
    assert.equal(trace.events[trace.events.length - 1]?.type, "run/end");
    assert.deepEqual(fs.readdirSync(dir), ["last-run.json"], "no partial files are left");
  });

  it("an aborted (superseded) run leaves the saved run as it was", async () => {
    const target = path.join(dir, "last-run.json");
    fs.writeFileSync(target, "the run that ended");
    files.begin(3, target, "/m.ts", "test", new Date(0), 64 * 2 ** 20);
    for (const e of events(4)) files.add(3, e);
    files.abort(3);
    files.begin(4, path.join(dir, "other.json"), "/n.ts", "test", new Date(0), 64 * 2 ** 20);
    await files.end(4, END);
    assert.equal(fs.readFileSync(target, "utf8"), "the run that ended");
    assert.deepEqual(fs.readdirSync(dir).sort(), ["last-run.json", "other.json"]);
  });

  it("skips and counts malformed events, and reads the CLI's one-line traces too", async () => {
    const lines = [
      '{"format":"backprop-lens-trace","version":1,"file":"/m.ts","createdAt":"x","producer":"p","events":[',
      '{"type":"run/start","version":1,"file":"/m.ts","startedAt":1},',
      '{"type":"layer/call","call":{"step":0}},',
      "not json,",
      '{"type":"console","level":"log","text":"kept"},',
      '{"type":"run/end","ok":true,"steps":1,"durationMs":1,"keptSteps":[]}]}',
    ];
    fs.writeFileSync(path.join(dir, "a.json"), lines.join("\n"));
    const a = await read(path.join(dir, "a.json"));
    assert.equal(a.summary.skipped, 2);
    assert.match(a.summary.firstBad ?? "", /layer\/call: call has a bad step/);
    assert.deepEqual(a.events.map((e) => e.type), ["run/start", "console", "run/end"]);
    fs.writeFileSync(path.join(dir, "b.json"), encodeTrace("/m.ts", [...events(2), END], "cli"));
    const b = await read(path.join(dir, "b.json"));
    assert.equal(b.summary.skipped, 0);
    assert.equal(b.events.length, 6);
  });

  it("refuses a file over the read limit, a file that is not a trace and a newer format, without throwing", async () => {
    fs.writeFileSync(path.join(dir, "big.json"), Buffer.alloc(5000, 32));
    await assert.rejects(read(path.join(dir, "big.json"), 4096), /the saved run is 0 MB, more than the 0 MB this reader takes/);
    fs.writeFileSync(path.join(dir, "junk.json"), "\u0000junk");
    await assert.rejects(read(path.join(dir, "junk.json")), /not JSON/);
    fs.writeFileSync(path.join(dir, "v9.json"), '{"format":"backprop-lens-trace","version":9,"file":"/m.ts","events":[\n]}');
    await assert.rejects(read(path.join(dir, "v9.json")), /trace format version 9 is newer than this reader/);
  });
});
