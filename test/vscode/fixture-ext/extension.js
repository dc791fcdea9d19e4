// Fixture extension for the test/vscode harness (plain CommonJS, no build step).
// - command fixtureExt.hello(name?) returns "Hello, <name>!"
// - command fixtureExt.showPanel opens a webview panel "Fixture Panel" whose text is
//   "Hello from the fixture webview"; a serializer restores it after a window reload with the text
//   "Restored fixture webview (opened N times)".
// - a hover provider for plaintext files: "Fixture hover: <word>"
// - the exported API reports what the harness needs to check (env passthrough, workspace trust).
'use strict';
const vscode = require('vscode');

const VIEW_TYPE = 'fixtureExt.panel';

function html(webview, text) {
  const nonce = String(Math.random()).slice(2);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
  body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); background: var(--vscode-editor-background); padding: 24px; }
  #msg { font-size: 28px; }
  .swatch { display: inline-block; padding: 8px 16px; margin-top: 12px; border-radius: 4px;
            background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
</style></head>
<body>
  <h1 id="msg">${text}</h1>
  <div class="swatch" id="kind"></div>
  <script nonce="${nonce}">
    const vscode = acquireVsCodeApi();
    const state = vscode.getState() || { opened: 0 };
    state.opened += 1;
    vscode.setState(state);
    const showTheme = () => {
      const kind = [...document.body.classList].find((c) => /^vscode-(light|dark|high-contrast)/.test(c));
      document.getElementById('kind').textContent = 'theme: ' + (kind || 'unknown');
    };
    showTheme();
    new MutationObserver(showTheme).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  </script>
</body></html>`;
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('fixtureExt.hello', (name) => `Hello, ${name ?? 'world'}!`),
    vscode.commands.registerCommand('fixtureExt.showPanel', () => {
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Fixture Panel', vscode.ViewColumn.One, {
        enableScripts: true,
        retainContextWhenHidden: false,
      });
      panel.webview.html = html(panel.webview, 'Hello from the fixture webview');
      return true;
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state) {
        panel.webview.options = { enableScripts: true };
        panel.webview.html = html(panel.webview, `Restored fixture webview (opened ${state?.opened ?? 0} times)`);
      },
    }),
    vscode.languages.registerHoverProvider({ language: 'plaintext' }, {
      provideHover(document, position) {
        const range = document.getWordRangeAtPosition(position);
        if (!range) return undefined;
        return new vscode.Hover(new vscode.MarkdownString(`Fixture hover: **${document.getText(range)}**`), range);
      },
    }),
  );
  return {
    env: (name) => process.env[name],
    isTrusted: () => vscode.workspace.isTrusted,
  };
}

function deactivate() {}

module.exports = { activate, deactivate };
