// Lint rules chosen for this code: the recommended TypeScript set, the promise rules that
// matter in async-heavy harness and e2e code, and equality/unused checks. Formatting is
// Prettier's job (eslint-config-prettier turns off the rules that would fight it).
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", ".e2e/**", "**/*.js", "**/*.mjs", "policies/bin/**", ".tmp-*/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        project: ["./tsconfig.dev.json", "./policies/tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A forgotten await in a deploy or teardown path loses errors and ordering.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      eqeqeq: ["error", "always"],
      "no-console": "off",
      "prefer-const": "error",
    },
  },
  {
    // Provider shapes (Pulumi inputs, Engine API bodies, gRPC messages) are dynamic by nature.
    files: ["e2e/**/*.ts", "tools/**/*.ts", "tests/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  prettier,
);
