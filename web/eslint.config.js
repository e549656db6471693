// ESLint flat config for the front end: `npm run lint` (eslint src test).
// src/ is browser ES modules (src/render-worker.js runs in a worker); test/ and
// test-support/ are node:test files and their helpers.
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    ignores: ["node_modules/", "test/fixtures/"],
  },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
    },
    linterOptions: {
      reportUnusedDisableDirectives: "error",
    },
    rules: {
      "no-unused-vars": ["error", {
        args: "after-used",
        argsIgnorePattern: "^_",
        // `const { device, ...rest } = config` is how a field is left out of a copy.
        ignoreRestSiblings: true,
        varsIgnorePattern: "^_",
        caughtErrorsIgnorePattern: "^_",
        destructuredArrayIgnorePattern: "^_",
      }],
      eqeqeq: ["error", "smart"],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["src/**/*.js"],
    ignores: ["src/render-worker.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["src/render-worker.js"],
    languageOptions: { globals: { ...globals.worker } },
  },
  {
    files: ["test/**/*.js", "test-support/**/*.js", "build.mjs", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
];
