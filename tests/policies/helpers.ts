/** Assertions over collected violation messages, in the style of Pulumi's own policy tests. */
export { runResourcePolicy, runStackPolicy } from "../../policies/offline/harness";

type Messages = readonly (string | { readonly message: string })[];

const textOf = (m: string | { readonly message: string }) => (typeof m === "string" ? m : m.message);

export function assertHasViolation(messages: Messages, expected: string | RegExp): void {
  const texts = messages.map(textOf);
  const found = texts.some((t) => (typeof expected === "string" ? t.includes(expected) : expected.test(t)));
  if (!found) {
    throw new Error(
      `expected a violation matching ${String(expected)}, got ${texts.length === 0 ? "none" : `:\n  ${texts.join("\n  ")}`}`,
    );
  }
}

export function assertNoViolations(messages: Messages): void {
  if (messages.length > 0) throw new Error(`expected no violations, got:\n  ${messages.map(textOf).join("\n  ")}`);
}
