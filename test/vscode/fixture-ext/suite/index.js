// Test module for the fixture extension (the @vscode/test-electron contract: exports run(): Promise<void>).
// Runs inside the Node extension host; mocha comes from <repo>/node_modules via ../../mochaRun.cjs.
'use strict';
const path = require('path');
const { runMocha } = require('../../mochaRun.cjs');

exports.run = () => runMocha({ files: [path.join(__dirname, 'fixture.test.js')], timeout: 20000 });
