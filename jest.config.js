/** Unit tests: ts-jest compiles with the project's tsconfig so tests are type-checked too. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testTimeout: 60000,
};
