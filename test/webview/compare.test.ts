/**
 * Issue 13, the overview: compare two steps. Any kept step against another (step 0 against the last
 * by default), side by side and their difference, with the largest change.
 */
import * as assert from "node:assert/strict";
import { RunModel } from "../../core/run/runModel";
import { comparable, defaultChoice, difference } from "../../webview/views/compare";
import { recordRun, train } from "../helpers/record";
import { Inspector } from "./inspectorHarness";

describe("compare two steps", function () {
  this.timeout(30000);
  const events = recordRun(train(12), 2);

  it("offers every tensor kept in two steps; defaults to the first weights, step 0 against the last", () => {
    const run = new RunModel({ runId: 1, file: "/m.ts", startedAt: 0 });
    for (const e of events) run.ingest(e);
    const all = comparable(run);
    assert.ok(all.some((x) => x.tensor === "weights") && all.some((x) => x.tensor === "dweights"));
    const c = defaultChoice(run) ?? assert.fail();
    assert.deepEqual([c.tensor, c.phase, c.a, c.b], ["weights", "forward", 0, 11]);
    const d = difference({ shape: [1, 2], data: Float64Array.from([1, 5]) }, { shape: [1, 2], data: Float64Array.from([4, 2]) });
    assert.deepEqual(Array.from(d.data), [3, -3]);
  });

  describe("in the inspector (jsdom)", () => {
    let ui: Inspector;
    afterEach(() => ui?.close());

    it("shows step 0, the last step and their difference, and the largest change, exactly", async () => {
      ui = new Inspector();
      const host = ui.openRun(events, { runId: 1 });
      await ui.settle();
      const section = ui.$("[data-testid=compare]") ?? assert.fail("no compare section");
      assert.equal(section.getAttribute("data-a"), "0");
      assert.equal(section.getAttribute("data-b"), "11");
      assert.ok(ui.$("[data-testid=compare-a-map]") && ui.$("[data-testid=compare-b-map]") && ui.$("[data-testid=compare-diff-map]"));
      assert.equal(ui.$("[data-testid=compare-diff-map] [data-testid=heat-scale]")?.getAttribute("data-scale"), "diverging");
      const d1 = host.layerOrder()[0] ?? assert.fail();
      const w = (step: number) => {
        const c = host.callsIn(d1.id, step).find((x) => x.phase === "forward") ?? assert.fail();
        return host.tensor(c.seq, "weights") ?? assert.fail();
      };
      const diff = difference(w(0), w(11));
      let worst = 0;
      for (let i = 0; i < diff.data.length; i++) if (Math.abs(diff.data[i] as number) > Math.abs(diff.data[worst] as number)) worst = i;
      assert.equal(Number(ui.$("[data-testid=compare-summary]")?.getAttribute("data-max-change")), diff.data[worst]);
      // Choosing step 1 as B compares again.
      const b = ui.$("[data-testid=compare-b]") as HTMLSelectElement;
      b.value = "1";
      b.dispatchEvent(new ui.dom.window.Event("change"));
      await ui.settle();
      assert.equal(ui.$("[data-testid=compare]")?.getAttribute("data-b"), "1");
    });
  });
});
