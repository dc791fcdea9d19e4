#!/usr/bin/env node
// `npm start`: opens a real VS Code with Backprop Lens and the examples/ folder, and shows the default
// example's backward pass (examples/04-spiral-model.ts) in the Gradient Inspector.
//
// - With desktop VS Code on the PATH (`code`): a new window with the extension under development.
// - Otherwise (as on this machine): packages the extension (VSIX), installs it into a private
//   code-server 4.100.3 (VS Code 1.100.3 in the browser, installed by installCodeServer.mjs), serves it on
//   127.0.0.1 and prints the address to open. Ctrl+C stops it.
//
// Options: --port=<n> (default 8420, or a free one), --no-package (use the extension folder directly as
// a development extension instead of the VSIX), --example=<file in examples/>.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, remoteUri, startCodeServer, workbenchUrl } from "./codeServer.mjs";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const examples = path.join(repo, "examples");
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const example = arg("example") ?? "04-spiral-model.ts";
const usePackage = !process.argv.includes("--no-package");
const env = { BACKPROP_LENS_AUTORUN: example };

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
}

function onPath(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0;
}

async function portToUse() {
  const wanted = Number(arg("port") ?? 8420);
  const net = await import("node:net");
  const free = await new Promise((resolve) => {
    const s = net.createServer().once("error", () => resolve(false)).listen(wanted, "127.0.0.1", () => s.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

async function main() {
  console.log("Building Backprop Lens…");
  run(process.execPath, [path.join(repo, "esbuild.mjs")]);

  if (onPath("code") && !process.env.BPL_FORCE_CODE_SERVER) {
    console.log(`Opening desktop VS Code on ${examples} with the extension under development…`);
    const r = spawnSync("code", ["--new-window", `--extensionDevelopmentPath=${repo}`, examples], { stdio: "inherit", env: { ...process.env, ...env } });
    process.exit(r.status ?? 1);
  }

  let vsix;
  if (usePackage) {
    vsix = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bpl-vsix-")), "backprop-lens.vsix");
    console.log("Packaging the extension (npm run package)…");
    run("npm", ["run", "--silent", "package", "--", "--out", vsix]);
  }
  console.log("Starting VS Code (code-server 4.100.3) on 127.0.0.1…");
  const server = await startCodeServer({
    folder: examples,
    port: await portToUse(),
    env,
    installExtensions: vsix ? [vsix] : [],
    settings: { "workbench.colorTheme": "Default Dark Modern" },
  });
  const payload = vsix ? undefined : [["extensionDevelopmentPath", remoteUri(server, repo)]];
  const url = workbenchUrl(server, { folder: examples, payload });
  console.log(`\nBackprop Lens is ready. Open this address in a browser:\n\n    ${url}\n`);
  console.log(`The examples/ folder is open and ${example} runs as soon as the window loads; the Gradient Inspector opens beside it.`);
  console.log("Press Ctrl+C to stop.");
  const stop = async () => {
    await server.stop();
    if (vsix) fs.rmSync(path.dirname(vsix), { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await new Promise(() => undefined); // until Ctrl+C
}

main().catch((e) => {
  console.error(`npm start failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
