/**
 * The built server (dist/server.js) end to end over stdio, as an editor drives it: initialize, open a
 * model file, send run reports, then hover, layerAt, code lenses, inlay hints, diagnostics, edits and
 * clearReports. Waits on conditions with a deadline, never on time.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  CodeLensRequest,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  DocumentSymbolRequest,
  HoverRequest,
  InitializeRequest,
  InitializedNotification,
  InlayHintRequest,
  type MarkupContent,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
} from "vscode-languageserver-protocol/node";
import {
  CLEAR_REPORTS_NOTIFICATION,
  LAYER_AT_REQUEST,
  type LayerAtResult,
  RUN_REPORT_NOTIFICATION,
  decodeWire,
  encodeWire,
} from "../../extension/server/lspProtocol";
import { pathToUri } from "../../extension/server/paths";
import { ROOT, abs, reportFromTrace } from "./fixtures";

const SERVER = path.join(ROOT, "dist/server.js");
const MODEL = "examples/02-layer-batch.ts";
const THROWS = "test/fixtures/models/throws.ts";

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("language server over stdio (dist/server.js)", function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let conn: ProtocolConnection;
  const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  const modelUri = pathToUri(abs(MODEL));
  const throwsUri = pathToUri(abs(THROWS));

  before(async () => {
    if (!fs.existsSync(SERVER)) execFileSync(process.execPath, ["esbuild.mjs", "--only=server"], { cwd: ROOT });
    child = spawn(process.execPath, [SERVER, "--stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    conn = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => diagnostics.set(p.uri, [...(diagnostics.get(p.uri) ?? []), p]));
    conn.onRequest("workspace/codeLens/refresh", () => null);
    conn.onRequest("workspace/inlayHint/refresh", () => null);
    conn.listen();
    const init = await conn.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToUri(ROOT),
      capabilities: { workspace: { codeLens: { refreshSupport: true }, inlayHint: { refreshSupport: true } } },
      workspaceFolders: null,
    });
    assert.equal(init.capabilities.hoverProvider, true);
    assert.deepEqual(init.capabilities.textDocumentSync, { openClose: true, change: 2 });
    await conn.sendNotification(InitializedNotification.type, {});
    for (const [uri, rel] of [
      [modelUri, MODEL],
      [throwsUri, THROWS],
    ] as const) {
      await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: "typescript", version: 1, text: fs.readFileSync(abs(rel), "utf8") } });
    }
  });

  after(() => {
    conn?.dispose();
    child?.kill();
  });

  const last = (uri: string): PublishDiagnosticsParams | undefined => diagnostics.get(uri)?.at(-1);

  it("before any run: the Run lens, and only the static shapes in the hover", async () => {
    const lenses = await conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: modelUri } });
    assert.deepEqual(lenses?.map((l) => l.command?.title), ["▶ Run Backward Pass", "Debug Backward Pass"]);
    // The analysis runs in a worker that may still be starting: ask until it answers.
    const md = await until("the static hover", async () => ((await conn.sendRequest(HoverRequest.type, { textDocument: { uri: modelUri }, position: { line: 19, character: 8 } }))?.contents as MarkupContent | undefined)?.value, 20_000);
    assert.ok(md.startsWith("**dense1** = `Dense(4, 3)`"), md);
    assert.ok(md.includes("Shapes before running"), md);
    assert.ok(!md.includes("Open in Gradient Inspector"), "no run values before a run");
  });

  it("after a report: hover, layerAt, lenses and inlay hints on dense1", async () => {
    await conn.sendNotification(RUN_REPORT_NOTIFICATION, encodeWire(reportFromTrace("02-layer-batch", MODEL)));
    const hover = await until("a hover", async () => (await conn.sendRequest(HoverRequest.type, { textDocument: { uri: modelUri }, position: { line: 19, character: 8 } })) ?? undefined);
    const md = hover.contents as MarkupContent;
    assert.equal(md.kind, "markdown");
    assert.ok(md.value.startsWith("**dense1** = `Dense(4, 3)` · 15 parameters"));
    assert.ok(md.value.includes("[[ 0.44 -0.38 -0.07  1.37]"));
    assert.ok(md.value.includes("[[6. 6. 6.]]"));
    assert.deepEqual(hover.range, { start: { line: 19, character: 0 }, end: { line: 19, character: 52 } });

    const at = decodeWire<LayerAtResult>(await conn.sendRequest(LAYER_AT_REQUEST, { uri: modelUri, line: 28 }));
    assert.equal(at?.layer.info.name, "dense1");
    assert.deepEqual(at?.roles, ["backward"]);
    assert.equal(at?.changed, false);
    assert.equal(decodeWire<LayerAtResult>(await conn.sendRequest(LAYER_AT_REQUEST, { uri: modelUri, line: 0 })), null);

    const lenses = await conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: modelUri } });
    assert.deepEqual(lenses?.map((l) => l.command?.title), ["▶ Run Backward Pass", "Debug Backward Pass", "dense1: [3, 3] · ‖dW‖ 40", "dense2: [3, 3] · ‖dW‖ 70", "relu: [3, 3] · ‖dinputs‖ 11"]);
    const hints = await conn.sendRequest(InlayHintRequest.type, { textDocument: { uri: modelUri }, range: { start: { line: 19, character: 0 }, end: { line: 20, character: 0 } } });
    assert.deepEqual(hints?.map((h) => h.label), ["‖dW‖ 40", "→ [3, 3]"]);
  });

  it("publishes the run error of another model file, moves it with edits, and clears everything", async () => {
    await conn.sendNotification(RUN_REPORT_NOTIFICATION, encodeWire(reportFromTrace("throws", THROWS, 2)));
    const first = await until("the throw diagnostic", () => (last(throwsUri)?.diagnostics.length ? last(throwsUri) : undefined));
    assert.deepEqual(
      first.diagnostics.map((d) => `${d.range.start.line}:${d.range.start.character} ${d.severity} ${String(d.code)} ${d.source}`),
      ["3:2 1 throw Backprop Lens"],
    );
    await conn.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: throwsUri, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: "// moved\n" }],
    });
    await until("the moved diagnostic", () => (last(throwsUri)?.diagnostics[0]?.range.start.line === 4 ? true : undefined));
    await conn.sendNotification(CLEAR_REPORTS_NOTIFICATION);
    await until("cleared diagnostics", () => (last(throwsUri)?.diagnostics.length === 0 ? true : undefined));
    // The run's hover is gone; the static shapes stay.
    const after = (await conn.sendRequest(HoverRequest.type, { textDocument: { uri: modelUri }, position: { line: 19, character: 8 } }))?.contents as MarkupContent | undefined;
    assert.ok(after?.value.includes("Shapes before running"), after?.value);
    assert.ok(!after?.value.includes("Open in Gradient Inspector"), after?.value);
  });

  it("a Python file gets no TypeScript shapes, whatever its text; the same text in a .ts file does", async () => {
    // The analysis reads TypeScript. A .py file is never read as TypeScript, even when its text would
    // parse as a model with a mismatch (here: text that is a TypeScript model); a real Python example neither.
    const text = ['import { Dense } from "backprop-lens";', "const dense1 = new Dense(2, 3);", "const dense2 = new Dense(4, 3);", "dense1.forward([[1, 2]]);", "dense2.forward(dense1.output);", ""].join("\n");
    const pyUri = pathToUri(abs("test/fixtures/models/mismatch.py"));
    const exampleUri = pathToUri(abs("examples/python/04_spiral_model.py"));
    const tsUri = pathToUri(abs("test/fixtures/models/mismatch.ts"));
    await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: pyUri, languageId: "python", version: 1, text } });
    await conn.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri: exampleUri, languageId: "python", version: 1, text: fs.readFileSync(abs("examples/python/04_spiral_model.py"), "utf8") },
    });
    await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: tsUri, languageId: "typescript", version: 1, text } });
    // One worker analyses files in order: once the .ts file's diagnostic is here, the .py ones would be too.
    const ts = await until("the .ts file's static diagnostic", () => (last(tsUri)?.diagnostics.length ? last(tsUri) : undefined), 20_000);
    assert.deepEqual(
      ts.diagnostics.map((d) => `${d.range.start.line} ${d.source}`),
      ["4 Backprop Lens (before running)"],
    );
    for (const uri of [pyUri, exampleUri]) {
      assert.ok(!diagnostics.get(uri)?.some((p) => p.diagnostics.length > 0), JSON.stringify(diagnostics.get(uri)));
      assert.equal(await conn.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 1, character: 8 } }), null);
      assert.deepEqual(await conn.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } }), []);
      assert.deepEqual(await conn.sendRequest(InlayHintRequest.type, { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 200, character: 0 } } }), []);
    }
    assert.ok(((await conn.sendRequest(HoverRequest.type, { textDocument: { uri: tsUri }, position: { line: 1, character: 8 } }))?.contents as MarkupContent).value.includes("Shapes before running"));
    for (const uri of [tsUri, pyUri, exampleUri]) await conn.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
    await until("the .ts file's diagnostics cleared", () => (last(tsUri)?.diagnostics.length === 0 ? true : undefined));
  });

  it("NaN statistics arrive as NaN (not null)", async () => {
    const report = reportFromTrace("02-layer-batch", MODEL, 3);
    const output = report.layers[0]!.tensors.output!;
    output.stats.min = NaN;
    output.stats.nonFinite = 1;
    output.corner[0]![0] = NaN;
    await conn.sendNotification(RUN_REPORT_NOTIFICATION, encodeWire(report));
    const at = await until("layerAt", async () => decodeWire<LayerAtResult>(await conn.sendRequest(LAYER_AT_REQUEST, { uri: modelUri, line: 19 })) ?? undefined);
    assert.equal(at.runId, 3);
    assert.ok(Number.isNaN(at.layer.tensors.output?.stats.min));
    const hover = await conn.sendRequest(HoverRequest.type, { textDocument: { uri: modelUri }, position: { line: 19, character: 0 } });
    const md = (hover?.contents as MarkupContent).value;
    assert.ok(md.includes("| output ⚠ 1 non-finite | [3, 3] | NaN |"), md);
    assert.ok(md.includes("[[   nan  1.21   2.385]"), md);
  });
});
