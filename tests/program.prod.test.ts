import { describeProgram } from "./programCases";

describe("the program on the prod stack", () => {
  describeProgram("prod");
});
