import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { pathToFileURL } from "node:url";
import { OpenDocuments, lineOf } from "../../extension/server/documents";
import { type RunReport, decodeWire, encodeWire } from "../../extension/server/lspProtocol";
import { fileKey, pathToUri, uriToPath } from "../../extension/server/paths";
import { ReportStore } from "../../extension/server/reportStore";
import { abs, makeLayer, makeReport, reportFromTrace } from "./fixtures";

const MODEL = "examples/02-layer-batch.ts";

describe("ReportStore", () => {
  it("finds the layers a line constructs or calls (0-based lines)", () => {
    const store = new ReportStore();
    store.set(reportFromTrace("02-layer-batch", MODEL));
    const at = (line: number): string[] => store.layersOnLine(abs(MODEL), line - 1).map((x) => `${x.layer.info.name} ${x.roles.join("+")}`);
    assert.deepEqual(at(20), ["dense1 construction"]);
    assert.deepEqual(at(21), ["dense1 forward"]);
    assert.deepEqual(at(29), ["dense1 backward"]);
    assert.deepEqual(at(39), ["relu backward"]);
    assert.deepEqual(at(30), []);
    assert.deepEqual(store.layersOnLine(abs("examples/04-spiral-model.ts"), 19), []);
  });

  it("merges roles of one layer on one line and puts constructions before calls", () => {
    const file = abs("m.ts");
    const store = new ReportStore();
    store.set(
      makeReport(file, {
        layers: [
          makeLayer(0, "a", "Dense(2, 3)", file, 5, { callSites: [{ phase: "forward", site: { file, line: 3, column: 1 } }] }),
          makeLayer(1, "b", "Dense(3, 3)", file, 3, { callSites: [{ phase: "backward", site: { file, line: 3, column: 9 } }, { phase: "forward", site: { file, line: 3, column: 30 } }] }),
        ],
      }),
    );
    assert.deepEqual(
      store.layersOnLine(file, 2).map((x) => `${x.layer.info.name} ${x.roles.join("+")}`),
      ["b construction+forward+backward", "a forward"],
    );
  });

  it("a new report of a model file replaces the old one; reports of other files stay; clear forgets all", () => {
    const store = new ReportStore();
    const a = abs("a.ts");
    const b = abs("b.ts");
    store.set(makeReport(a, { runId: 1, finishedAt: 1, layers: [makeLayer(0, "old", "Dense(1, 1)", a, 1)] }));
    store.set(makeReport(b, { runId: 2, finishedAt: 2, layers: [makeLayer(0, "other", "Dense(1, 1)", b, 1)] }));
    store.set(makeReport(a, { runId: 3, finishedAt: 3, layers: [makeLayer(0, "new", "Dense(1, 1)", a, 2)] }));
    assert.deepEqual(store.reports.map((r) => r.runId), [3, 2]);
    assert.deepEqual(store.layersOnLine(a, 0), []);
    assert.equal(store.layersOnLine(a, 1)[0]?.layer.info.name, "new");
    assert.equal(store.tracks(b), true);
    store.clear();
    assert.deepEqual(store.reports, []);
    assert.equal(store.tracks(b), false);
  });
});

describe("OpenDocuments + ReportStore: incremental edits move the results", () => {
  it("applies every change of one didChange in order, each against the text the previous one left", () => {
    const store = new ReportStore();
    store.set(reportFromTrace("02-layer-batch", MODEL));
    const docs = new OpenDocuments(store.keyOf);
    const uri = pathToFileURL(abs(MODEL)).href;
    assert.ok(docs.open(uri, "typescript", 1, fs.readFileSync(abs(MODEL), "utf8")));
    const seen: number[] = [];
    const d = docs.change(
      uri,
      2,
      [
        // two lines above everything, then one more right above dense1 (line 20 → 22 after the first change)
        { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: "// 1\n// 2\n" },
        { range: { start: { line: 21, character: 0 }, end: { line: 21, character: 0 } }, text: "// 3\n" },
      ],
      (doc, change) => {
        seen.push(doc.doc.lineCount);
        store.applyChange(doc.file, change, (n) => lineOf(doc.doc, n), doc.doc.lineCount);
      },
    );
    assert.deepEqual(seen, [44, 46]);
    assert.ok(d);
    assert.equal(lineOf(d.doc, 22), "const dense1 = new Dense(4, 3, { weights, biases });");
    assert.deepEqual(
      store.layersOnLine(abs(MODEL), 22).map((x) => `${x.layer.info.name} ${x.roles.join("+")} changed=${x.changed}`),
      ["dense1 construction changed=false"],
    );
    assert.equal(store.layersOnLine(abs(MODEL), 23)[0]?.layer.info.name, "dense1");
    assert.equal(store.layersOnLine(abs(MODEL), 21 + 2)[0]?.roles[0], "forward");
    assert.equal(docs.byFile(abs(MODEL))?.uri, uri);
    docs.close(uri);
    assert.equal(docs.get(uri), undefined);
  });

  it("ignores documents that are not files", () => {
    assert.equal(new OpenDocuments().open("untitled:Untitled-1", "typescript", 1, ""), false);
  });
});

describe("paths and the wire format", () => {
  it("maps file URIs and paths both ways; keys fold case only on Windows", () => {
    const p = abs("examples/a b#c.ts");
    assert.equal(uriToPath(pathToUri(p)), p);
    assert.equal(uriToPath("untitled:Untitled-1"), undefined);
    assert.equal(fileKey("/a/./b/../C.ts", "linux"), "/a/C.ts");
    assert.equal(fileKey("C:\\Work\\M.ts", "win32"), "c:\\work\\m.ts");
  });

  it("carries NaN and ±Infinity through JSON (JSON.stringify would make them null)", () => {
    const report: RunReport = makeReport(abs("m.ts"), {
      ok: false,
      last: { step: 1, loss: NaN },
      layers: [
        makeLayer(0, "dense2", "Dense(16, 3)", abs("m.ts"), 5, {
          tensors: { output: { shape: [1, 3], stats: { size: 3, min: NaN, max: NaN, mean: NaN, std: NaN, norm: Infinity, nonFinite: 3, zeros: 0 }, corner: [[NaN, Infinity, -Infinity]] } },
        }),
      ],
    });
    const wire = JSON.parse(JSON.stringify(encodeWire(report))) as unknown;
    const back = decodeWire<RunReport>(wire);
    assert.deepEqual(back, report);
    assert.ok(Number.isNaN(back.last?.loss));
    assert.deepEqual(back.layers[0]?.tensors.output?.corner, [[NaN, Infinity, -Infinity]]);
    assert.equal(decodeWire(encodeWire(null)), null);
  });
});
