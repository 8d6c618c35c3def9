import { describeProgram } from "./programCases";

describe("the program on the dev stack", () => {
  describeProgram("dev");
});
