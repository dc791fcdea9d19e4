/**
 * Entry of the Gradient Inspector webview (esbuild: webview/main.ts → dist/webview/main.js + main.css).
 * Calls `acquireVsCodeApi()` exactly once and hands it, behind the Host interface, to the app.
 */
import "@vscode/codicons/dist/codicon.css";
import "katex/dist/katex.min.css";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import "@vscode-elements/elements/dist/vscode-button/index.js";
import "@vscode-elements/elements/dist/vscode-single-select/index.js";
import "@vscode-elements/elements/dist/vscode-option/index.js";
import "@vscode-elements/elements/dist/vscode-collapsible/index.js";
import { App } from "./app";
import { createVsCodeHost, type VsCodeApi } from "./host";

declare function acquireVsCodeApi(): VsCodeApi;

const mount = document.getElementById("app") ?? document.body.appendChild(document.createElement("div"));
// The dev page may shorten the tensor request timeout (data-tensor-timeout-ms on <body>).
const timeoutMs = Number(document.body.dataset.tensorTimeoutMs) || undefined;
new App(mount, createVsCodeHost(acquireVsCodeApi(), window), timeoutMs ? { timeoutMs } : {}).start();
