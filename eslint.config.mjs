// ESLint: typescript-eslint's recommended rules, plus the dependency rules of docs/architecture.md
// ("Dependencies between the parts"): core/ imports nothing from vscode, the DOM or Node; webview/
// imports neither vscode nor Node; no import cycles of values anywhere (eslint-plugin-import-x's
// no-cycle; `import type` does not count, it has no run-time effect; see docs/dependencies.md).
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

const nodeModules = ["node:*", "fs", "fs/*", "path", "os", "child_process", "worker_threads", "vm", "util", "crypto", "inspector", "module", "url"];

export default tseslint.config(
  { ignores: ["dist/**", "out/**", "node_modules/**", ".vscode-test/**", "test-artifacts/**", ".scratch/**", "test/fixtures/models/**", "**/*.mjs", "**/*.cjs", "**/*.js"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    files: ["core/**/*.ts", "extension/**/*.ts", "webview/**/*.ts", "test/**/*.ts"],
    plugins: { "import-x": importX },
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json"] })],
    },
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    files: ["core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["vscode", ...nodeModules], message: "core/ is pure: no vscode, DOM or Node imports" }] }],
      "no-restricted-globals": ["error", "window", "document", "process", "Buffer", "require"],
      "no-restricted-properties": ["error", { object: "Math", property: "random", message: "inject an Rng (core/rng.ts)" }],
    },
  },
  {
    files: ["webview/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["vscode", ...nodeModules], message: "the webview talks to the host only through core/protocol.ts" }] }],
    },
  },
  {
    files: ["extension/**/*.ts", "webview/**/*.ts"],
    ignores: ["extension/cli/**"],
    rules: { "no-console": "error" },
  },
);
