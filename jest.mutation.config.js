/**
 * Jest for `npm run mutation` (StrykerJS): the unit tests, transpiled without type-checking (a mutant that does
 * not type-check is still a behaviour to kill), and without the suites that evaluate through a child process,
 * which would run the unmutated sources.
 */
const base = require("./jest.config");
module.exports = {
  ...base,
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.dev.json", isolatedModules: true }] },
  testPathIgnorePatterns: [
    "/node_modules/",
    "/tests/plan\\.test\\.ts$",
    "/tests/policies/analyzer\\.test\\.ts$",
    "/tests/policies/checker\\.test\\.ts$",
  ],
};
