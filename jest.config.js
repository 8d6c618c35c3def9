/** Unit tests: ts-jest compiles with tsconfig.dev.json (jest types), so tests are type-checked too. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testTimeout: 60000,
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.dev.json" }] },
};
