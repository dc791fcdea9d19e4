// ESLint: typescript-eslint's recommended rules, plus the dependency rule of MODELS.md:
// core/ imports nothing from vscode, the DOM or Node; webview/ imports neither vscode nor Node.
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
