// Mocha tests that run inside the real extension host (code-server's Node host, or desktop VS Code).
'use strict';
const assert = require('assert');
const fs = require('fs');
const vscode = require('vscode');

const EXT_ID = 'bpl-test.bpl-fixture-ext';

describe('fixture extension in a real VS Code', () => {
  let api;

  it('activates', async () => {
    const ext = vscode.extensions.getExtension(EXT_ID);
    assert.ok(ext, `${EXT_ID} is loaded as the extension under development`);
    api = await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  it('runs its command and returns the value', async () => {
    const value = await vscode.commands.executeCommand('fixtureExt.hello', 'tests');
    assert.strictEqual(value, 'Hello, tests!');
  });

  it('opened the workspace folder', () => {
    const folders = vscode.workspace.workspaceFolders || [];
    assert.strictEqual(folders.length, 1, 'one workspace folder');
    const expected = process.env.BPL_WORKSPACE_FOLDER;
    if (expected) assert.strictEqual(fs.realpathSync(folders[0].uri.fsPath), fs.realpathSync(expected));
  });

  it('executes built-in provider commands (vscode.executeHoverProvider)', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: 'alpha beta gamma\n' });
    await vscode.window.showTextDocument(doc);
    try {
      const hovers = await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(0, 7));
      const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
      assert.match(text, /Fixture hover: \*\*beta\*\*/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
  });

  it('sees env vars passed to code-server and the expected workspace trust', () => {
    if (process.env.BPL_FIXTURE_ENV) assert.strictEqual(api.env('BPL_FIXTURE_ENV'), process.env.BPL_FIXTURE_ENV);
    console.log(`    (vscode.workspace.isTrusted = ${vscode.workspace.isTrusted}, BPL_FIXTURE_ENV = ${process.env.BPL_FIXTURE_ENV})`);
    if (process.env.BPL_EXPECT_TRUSTED) {
      assert.strictEqual(String(vscode.workspace.isTrusted), process.env.BPL_EXPECT_TRUSTED);
    }
  });
});
