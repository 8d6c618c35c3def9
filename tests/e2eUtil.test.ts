import { execFileSync } from "child_process";
import { excerpt, shellQuote } from "../e2e/lib/util";

describe("e2e command-line helpers", () => {
  it("quotes a word for the shell so it arrives as one argument, quotes and spaces included", () => {
    for (const word of ["plain", "it's", "a b  c", '$HOME `id` "x"', "'"]) {
      expect(execFileSync("sh", ["-c", `printf '%s' ${shellQuote(word)}`]).toString()).toBe(word);
    }
  });

  it("puts an answer on one quoted line, cut at the given length", () => {
    expect(excerpt("  -NOAUTH\r\n Authentication required.\n")).toBe('"-NOAUTH Authentication required."');
    expect(excerpt("x".repeat(150))).toBe(JSON.stringify("x".repeat(100)));
    expect(excerpt("abcdef", 3)).toBe('"abc"');
  });
});
