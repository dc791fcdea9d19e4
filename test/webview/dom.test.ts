/**
 * The inspector in a real DOM: runs the dev page's XSS scenario (webview/dev/preview.mjs) in headless
 * Chromium under the panel's strict CSP. A layer named `<img src=x onerror=alert(1)>` (and markup in
 * every other string of the trace) must render as literal text, create no img element, open no
 * dialog and cause no CSP violation. Skipped where there is no Chromium (BPL_SKIP_BROWSER=1 skips too).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "../../..");
const chromium = process.env.CHROMIUM ?? "/usr/bin/chromium";

describe("webview in Chromium (dev page)", function () {
  this.timeout(120000);
  before(function () {
    if (process.env.BPL_SKIP_BROWSER === "1" || !fs.existsSync(chromium)) this.skip();
  });

  it("renders a layer named <img src=x onerror=alert(1)> as text, with no img element and no CSP violation", () => {
    const out = path.join(root, "test-artifacts/webview-unit");
    const r = spawnSync(process.execPath, ["webview/dev/preview.mjs", "--only=xss", "--themes=dark", `--out=${path.relative(root, out)}`], { cwd: root, encoding: "utf8" });
    const log = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, log);
    assert.match(log, /ok {3}xss: no img element was created/);
    assert.match(log, /ok {3}xss: the layer name renders as literal text/);
    assert.match(log, /ok {3}xss dark: no CSP violations, console errors or page errors/);
  });
});
