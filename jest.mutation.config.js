/**
 * Jest for `npm run mutation` (StrykerJS): the unit tests, transpiled without type-checking (a mutant that does
 * not type-check is still a behaviour to kill), and without the suites that evaluate through a child process,
 * which would run the unmutated sources.
 *
 * MUTATION_TESTS=cidr,contracts/labels narrows the run to those test files (tests/cidr.test.ts,
 * tests/contracts/labels.test.ts): seconds per mutant instead of minutes. A mutant that survives the narrowed run may still be
 * killed by another suite, so a narrowed score is a lower bound.
 */
const base = require("./jest.config");
const only = (process.env.MUTATION_TESTS ?? "")
  .split(",")
  .map((w) => w.trim())
  .filter(Boolean);
const escape = (w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
module.exports = {
  ...base,
  // Stryker runs each mutant's tests through jest's findRelatedTests, which follows imports only through files
  // under `roots`: with tests/ alone, a mutant in a file the tests reach through another source file
  // (model/apps/*.ts through model/files.ts) had no related test, ran nothing and counted as survived.
  roots: ["<rootDir>/tests", "<rootDir>/model", "<rootDir>/components", "<rootDir>/policies", "<rootDir>/tools"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.dev.json", isolatedModules: true }] },
  ...(only.length > 0 ? { testRegex: `/tests/(${only.map(escape).join("|")})\\.test\\.ts$` } : {}),
  testPathIgnorePatterns: [
    "/node_modules/",
    "/tests/plan\\.test\\.ts$",
    "/tests/policies/analyzer\\.test\\.ts$",
    "/tests/policies/checker\\.test\\.ts$",
  ],
};
