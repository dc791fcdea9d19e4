import * as fs from "node:fs";
import { codeLenses } from "../../extension/server/lenses";
import { findMethod } from "../../extension/server/methods";
import * as assert from "node:assert/strict";
import { type Diagnostic, DiagnosticSeverity } from "vscode-languageserver";
import type { Anomaly } from "../../core/trace/traceTypes";
import { DIAGNOSTIC_SOURCE, type DiagnosticContext, DiagnosticsPublisher, type FileDiagnostics, computeDiagnostics } from "../../extension/server/diagnostics";
import type { RunReport } from "../../extension/server/lspProtocol";
import { pathToUri } from "../../extension/server/paths";
import { ReportStore } from "../../extension/server/reportStore";
import { abs, linesOf, makeLayer, makeReport, reportFromTrace } from "./fixtures";


/** Line texts from disk, overridable per file (an "open document"). */
function context(overrides: Record<string, string[]> = {}): DiagnosticContext {
  return {
    lineText: (file, line) => (overrides[file] ?? linesOf(file.slice(abs("").length)))[line],
    uriOf: (file) => pathToUri(file),
  };
}

function diagnosticsOf(...reports: RunReport[]): Map<string, FileDiagnostics> {
  const store = new ReportStore();
  for (const r of reports) store.set(r);
  return computeDiagnostics(store, context());
}

function only(map: Map<string, FileDiagnostics>, file: string): Diagnostic[] {
  const entry = [...map.values()].find((f) => f.file === file);
  assert.ok(entry, `no diagnostics for ${file}; files: ${[...map.values()].map((f) => f.file).join(", ")}`);
  return entry.diagnostics;
}

/** `line:start-end severity code` of each diagnostic (1-based line, 0-based characters; 1 Error, 2 Warning, 3 Information). */
function brief(ds: Diagnostic[]): string[] {
  return ds.map((d) => `${d.range.start.line + 1}:${d.range.start.character}-${d.range.end.character} ${d.severity} ${String(d.code)}`);
}

describe("diagnostics: the run error", () => {
  it("a throw goes on its line, trimmed, with the frames it was called from (throws.ts)", () => {
    const report = reportFromTrace("throws", "test/fixtures/models/throws.ts");
    const file = abs("test/fixtures/models/throws.ts");
    const ds = only(diagnosticsOf(report), file);
    assert.equal(ds.length, 1);
    const d = ds[0]!;
    assert.equal(linesOf("test/fixtures/models/throws.ts")[3], '  throw new Error("the data file is empty");');
    assert.deepEqual(d.range, { start: { line: 3, character: 2 }, end: { line: 3, character: 44 } });
    assert.equal(d.severity, DiagnosticSeverity.Error);
    assert.equal(d.source, DIAGNOSTIC_SOURCE);
    assert.equal(d.code, "throw");
    assert.equal(d.message, "throws.ts:4: the data file is empty (called from throws.ts:8)");
    assert.deepEqual(
      d.relatedInformation?.map((r) => `${r.location.uri}:${r.location.range.start.line + 1} ${r.message}`),
      [`${pathToUri(file)}:8 called from here`],
    );
  });

  it("a shape error goes on the failing call and points at the layer's construction (shape-mismatch.ts)", () => {
    const file = abs("test/fixtures/models/shape-mismatch.ts");
    const message =
      "shape-mismatch.ts:10: dense2.forward failed: Dense.forward: inputs are [300, 64] but the weights are [3, 3]: each input row has 64 values, this layer takes 3; its inputs [300, 64] came from activation1.output (ReLU, built at shape-mismatch.ts:5). dense2 is Dense(3, 3), built at shape-mismatch.ts:6.";
    const report = makeReport(file, {
      ok: false,
      layers: [makeLayer(2, "dense2", "Dense(3, 3)", file, 6)],
      error: { kind: "shape", message, site: { file, line: 10, column: 8 }, layer: { id: 2, name: "dense2", className: "Dense" } },
    });
    const [d] = only(diagnosticsOf(report), file);
    assert.deepEqual(brief([d!]), ["10:0-35 1 shape"]);
    assert.equal(d!.message, message);
    assert.deepEqual(d!.relatedInformation?.map((r) => `${r.location.range.start.line + 1} ${r.message}`), ["6 dense2 was built here"]);
  });

  it("every error kind but cancelled is an Error; a site-less error goes to the top of the model file", () => {
    const file = abs("test/fixtures/models/throws.ts");
    for (const kind of ["syntax", "import", "throw", "shape", "non-finite", "timeout", "memory", "too-large"] as const) {
      const ds = only(diagnosticsOf(makeReport(file, { ok: false, error: { kind, message: `${kind}!` } })), file);
      assert.deepEqual(brief(ds), [`1:0-38 1 ${kind}`]);
    }
    assert.equal(diagnosticsOf(makeReport(file, { ok: false, error: { kind: "cancelled", message: "the run was cancelled" } })).size, 0);
  });
});

describe("diagnostics: anomalies", () => {
  const file = abs("test/fixtures/models/nan.ts");
  const lib = abs("test/fixtures/models/wrong-backward.ts"); // stands in for a file the model imports
  const anomaly = (code: Anomaly["code"], severity: Anomaly["severity"], line: number | undefined, extra: Partial<Anomaly> = {}): Anomaly => ({
    code,
    severity,
    step: 1,
    message: `${code} (${severity})`,
    ...(line !== undefined ? { site: { file, line, column: 1 } } : {}),
    ...extra,
  });

  it("maps codes to severities: non-finite and gradient-check Error, exploding Warning, dead ReLU by severity, truncated none", () => {
    const report = makeReport(file, {
      layers: [makeLayer(0, "dense1", "Dense(2, 16)", file, 4), makeLayer(1, "activation1", "ReLU", file, 5)],
      anomalies: [
        anomaly("non-finite", "error", 12),
        anomaly("gradient-check", "error", 15),
        anomaly("exploding-gradient", "warning", 16),
        anomaly("dead-relu", "warning", 11),
        anomaly("dead-relu", "information", 14, { message: "another dead ReLU" }),
        anomaly("truncated", "information", 13),
      ],
    });
    const ds = only(diagnosticsOf(report), file);
    assert.deepEqual(brief(ds), [
      "12:2-32 1 non-finite",
      "15:2-42 1 gradient-check",
      "16:2-34 2 exploding-gradient",
      "11:2-20 2 dead-relu",
      "14:2-52 3 dead-relu",
    ]);
    assert.ok(ds.every((d) => d.source === "Backprop Lens"));
  });

  it("the gradient-check failure of a check run (wrong-backward.ts:28) links to the layer's construction", () => {
    const model = "test/fixtures/models/wrong-backward.ts";
    const ds = only(diagnosticsOf(reportFromTrace("wrong-backward", model)), abs(model));
    assert.deepEqual(brief(ds), ["28:0-33 1 gradient-check"]);
    assert.ok(ds[0]!.message.startsWith("gradient check failed: sigmoid.dinputs[37][0] is -0.000124731 but central differences give -6.225e-5"));
    // Issue 13: it also points at the user's backward method, where the bug is (it named only the call).
    assert.deepEqual(ds[0]!.relatedInformation?.map((r) => `${r.location.range.start.line + 1} ${r.message}`), ["11 Sigmoid.backward, the method whose gradient the check found wrong", "19 sigmoid = Sigmoid was built here"]);
  });

  it("a failed gradient check of a custom layer puts a code lens on its backward method, with analytic, numeric and their ratio", () => {
    const model = "test/fixtures/models/wrong-backward.ts";
    const s = new ReportStore();
    s.set(reportFromTrace("wrong-backward", model));
    const lenses = codeLenses(s, abs(model), "file:///m.ts", fs.readFileSync(abs(model), "utf8"));
    const onMethod = lenses.find((l) => l.range.start.line === 10) ?? assert.fail(lenses.map((l) => `${l.range.start.line}: ${l.command?.title}`).join("\n"));
    assert.match(onMethod.command?.title ?? "", /^✗ gradient check of sigmoid: dinputs\[37, 0\] is −1\.25e−4, central differences give −6\.22e−5 \(×2\)$/);
    assert.equal(findMethod(["class A:", "    def forward(self, x):", "        pass", "    def backward(self, d):", "        pass", "class B:", "    def backward(self, d):"], "A", "backward")?.line, 3);
    assert.equal(findMethod(["class A {}", "class B extends Layer {", "  override backward(d: Tensor) {"], "B", "backward")?.line, 2);
    assert.equal(findMethod(["class A {", "  forward() {}", "}", "class B {", "  backward() {}", "}"], "A", "backward"), undefined);
  });

  it("a site in an imported file is published for that file; a site-less anomaly goes to its layer's line", () => {
    const report = makeReport(file, {
      layers: [makeLayer(0, "dense1", "Dense(2, 16)", file, 4)],
      anomalies: [anomaly("exploding-gradient", "warning", undefined, { site: { file: lib, line: 22, column: 1 } }), anomaly("dead-relu", "warning", undefined, { layer: 0 })],
    });
    const map = diagnosticsOf(report);
    assert.deepEqual(brief(only(map, lib)), ["22:0-18 2 exploding-gradient"]);
    assert.equal([...map.values()].find((f) => f.file === lib)?.uri, pathToUri(lib));
    assert.deepEqual(brief(only(map, file)), ["4:0-52 2 dead-relu"]);
  });

  it("the NaN that ended the run is shown once (error and anomaly at one line)", () => {
    const message = "NaN first appeared in dense2.output[0][0] of shape [300, 3] at step 1 (forward called at nan.ts:12), in Dense(16, 3) built at nan.ts:5; the loss became NaN";
    const site = { file, line: 12, column: 10 };
    const report = makeReport(file, {
      ok: false,
      error: { kind: "non-finite", message: `nan.ts:12: ${message}`, site },
      anomalies: [{ code: "non-finite", severity: "error", step: 1, layer: 1, tensor: "output", index: [0, 0], site, message }],
    });
    const ds = only(diagnosticsOf(report), file);
    assert.deepEqual(brief(ds), ["12:2-32 1 non-finite"]);
    assert.equal(ds[0]!.message, `nan.ts:12: ${message}`);
  });

  it("after an edit the ranges follow the lines; a deleted line loses its diagnostic", () => {
    const model = "test/fixtures/models/throws.ts";
    const store = new ReportStore();
    store.set(reportFromTrace("throws", model));
    const old = linesOf(model);
    store.applyChange(abs(model), { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: "// a\n// b\n" }, (n) => old[n] ?? "", old.length);
    const now = ["// a", "// b", ...old];
    let ds = only(computeDiagnostics(store, context({ [abs(model)]: now })), abs(model));
    assert.deepEqual(brief(ds), ["6:2-44 1 throw"]);
    assert.equal(ds[0]!.relatedInformation?.[0]?.location.range.start.line, 9);
    store.applyChange(abs(model), { range: { start: { line: 5, character: 0 }, end: { line: 6, character: 0 } }, text: "" }, (n) => now[n] ?? "", now.length);
    ds = [...computeDiagnostics(store, context({ [abs(model)]: now.filter((_, i) => i !== 5) })).values()].flatMap((f) => f.diagnostics);
    assert.deepEqual(ds, []);
  });
});

describe("DiagnosticsPublisher", () => {
  it("publishes each affected file, clears files that no longer have any, skips repeats", () => {
    const sent: string[] = [];
    const publisher = new DiagnosticsPublisher((uri, ds) => sent.push(`${uri.slice(uri.lastIndexOf("/") + 1)}:${ds.map((d) => d.code).join(",")}`));
    const file = abs("test/fixtures/models/nan.ts");
    const lib = abs("test/fixtures/models/wrong-backward.ts");
    const store = new ReportStore();
    const ctx = context();
    store.set(
      makeReport(file, {
        anomalies: [
          { code: "non-finite", severity: "error", step: 1, message: "nan", site: { file, line: 12, column: 1 } },
          { code: "exploding-gradient", severity: "warning", step: 1, message: "big", site: { file: lib, line: 22, column: 1 } },
        ],
      }),
    );
    publisher.publish(computeDiagnostics(store, ctx));
    assert.deepEqual(sent.sort(), ["nan.ts:non-finite", "wrong-backward.ts:exploding-gradient"]);
    sent.length = 0;
    // a new report of the same model: the imported file has nothing left, the model file is unchanged
    store.set(makeReport(file, { runId: 2, anomalies: [{ code: "non-finite", severity: "error", step: 1, message: "nan", site: { file, line: 12, column: 1 } }] }));
    publisher.publish(computeDiagnostics(store, ctx));
    assert.deepEqual(sent, ["wrong-backward.ts:"]);
    sent.length = 0;
    store.clear();
    publisher.publish(computeDiagnostics(store, ctx));
    assert.deepEqual(sent, ["nan.ts:"]);
    assert.deepEqual(publisher.uris, []);
  });
});
