/** lib/secrets.ts: the one reader of Pulumi secret wrappers, in the engine's three forms. */
import fc from "fast-check";
import {
  formatPropertyPath,
  FoundSecret,
  markSecretPaths,
  parsePropertyPath,
  PropertyPath,
  secretAt,
  secretWrapper,
  unwrapSecrets,
  wrapSecretPaths,
} from "../../policies/lib/secrets";
import { ENCRYPTED_SECRET_SENTINEL, isUnknownValue, UNKNOWN_STRING_SENTINEL } from "../../policies/lib/values";

const collect = (value: unknown) => {
  const found: FoundSecret[] = [];
  const result = unwrapSecrets(value, (f) => found.push(f));
  return { result, found };
};

describe("unwrapSecrets", () => {
  it("unwraps the in-memory and --show-secrets forms to the value", () => {
    const props = { a: secretWrapper({ b: [1, "x"] }, "value"), c: secretWrapper("pw", "plaintext") };
    expect(unwrapSecrets(props)).toEqual({ a: { b: [1, "x"] }, c: "pw" });
  });

  it("turns an encrypted value into the encrypted sentinel, not the engine's unknown", () => {
    const { result } = collect({ data: secretWrapper("pw", "ciphertext") });
    expect(result).toEqual({ data: ENCRYPTED_SECRET_SENTINEL });
    expect(ENCRYPTED_SECRET_SENTINEL).not.toBe(UNKNOWN_STRING_SENTINEL);
    // Both are unreadable to rules that only need the value.
    expect(isUnknownValue(ENCRYPTED_SECRET_SENTINEL)).toBe(true);
  });

  it("reports the path and form of each outermost secret", () => {
    const { found } = collect({
      data: secretWrapper("x", "ciphertext"),
      spec: {
        env: { A: secretWrapper("1", "plaintext"), B: "2" },
        args: ["a", secretWrapper({ inner: secretWrapper("n", "value") }, "value")],
      },
    });
    expect(found).toEqual([
      { path: ["data"], form: "ciphertext" },
      { path: ["spec", "env", "A"], form: "plaintext" },
      { path: ["spec", "args", 1], form: "value" },
    ]);
  });

  it("keeps a hand-written plaintext that is not JSON as text", () => {
    expect(
      unwrapSecrets({ k: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", plaintext: "pw" } }),
    ).toEqual({ k: "pw" });
  });

  it("leaves Buffers and the input alone", () => {
    const buffer = Buffer.from("raw");
    const wrapper = secretWrapper("x", "value");
    const input = { b: buffer, s: wrapper };
    expect((unwrapSecrets(input) as { b: Buffer }).b).toBe(buffer);
    expect(input.s).toBe(wrapper);
    expect(wrapper).toEqual(secretWrapper("x", "value"));
  });

  it("undoes wrapSecretPaths, reporting the wrapped paths, in every form", () => {
    const key = fc.oneof(
      fc.constantFrom("env", "data", "a.b", "x[0]", "LOG_LEVEL"),
      fc.string({ minLength: 1, maxLength: 6 }),
    );
    // Values as a stack export holds them: JSON has no -0, which jsonValue may draw.
    const value = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    fc.assert(
      fc.property(
        fc.dictionary(key, value, { maxKeys: 5 }),
        fc.constantFrom("value", "plaintext") as fc.Arbitrary<"value" | "plaintext">,
        (doc, form) => {
          const paths: PropertyPath[] = Object.keys(doc).map((k) => [k]);
          const wrapped = wrapSecretPaths(doc, paths, (v) => secretWrapper(v, form));
          const { result, found } = collect(wrapped);
          expect(result).toEqual(JSON.parse(JSON.stringify(doc)));
          expect(found.map((f) => f.path)).toEqual(paths);
          expect(found.every((f) => f.form === form)).toBe(true);
        },
      ),
    );
  });
});

describe("property paths", () => {
  it("reads the dotted paths tools/evaluate.ts records today", () => {
    expect(parsePropertyPath("data")).toEqual(["data"]);
    expect(parsePropertyPath("taskSpec.containerSpec.env.DB_PASSWORD")).toEqual([
      "taskSpec",
      "containerSpec",
      "env",
      "DB_PASSWORD",
    ]);
    expect(parsePropertyPath("envs[1]")).toEqual(["envs", 1]);
  });

  it("round-trips any path, quoting keys that are not simple names", () => {
    const segment = fc.oneof(fc.nat({ max: 50 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (path) => {
        expect(parsePropertyPath(formatPropertyPath(path))).toEqual(path);
      }),
    );
    expect(formatPropertyPath(["env", "A.B", 0])).toBe('env["A.B"][0]');
  });

  it("rejects text that is not a path", () => {
    expect(() => parsePropertyPath(".a")).toThrow("not a property path");
    expect(() => parsePropertyPath("a..b")).toThrow("not a property path");
  });
});

describe("secretAt", () => {
  const unwrapped = (value: unknown) => {
    const { result, found } = collect(value);
    return markSecretPaths(
      result as object,
      found.map((f) => f.path),
    );
  };

  it("tells encrypted, plaintext and plain values apart, at and below a secret", () => {
    const props = unwrapped({
      env: { A: secretWrapper("1", "plaintext"), B: secretWrapper("2", "ciphertext"), C: "3" },
      whole: secretWrapper({ X: "4" }, "plaintext"),
    });
    expect(secretAt(props, ["env", "A"])).toBe("plaintext");
    expect(secretAt(props, ["env", "B"])).toBe("encrypted");
    expect(secretAt(props, ["env", "C"])).toBeUndefined();
    expect(secretAt(props, ["whole", "X"])).toBe("plaintext");
  });

  it("does not take a computed value for a secret", () => {
    expect(secretAt(unwrapped({ env: { A: UNKNOWN_STRING_SENTINEL } }), ["env", "A"])).toBeUndefined();
  });

  it("finds nothing on props that were never marked (what the analyzer hands rules)", () => {
    expect(secretAt({ env: { A: "1" } }, ["env", "A"])).toBeUndefined();
  });

  it("keeps the marks out of enumeration and JSON", () => {
    const props = unwrapped({ a: secretWrapper("1", "value") });
    expect(Object.keys(props)).toEqual(["a"]);
    expect(JSON.stringify(props)).toBe('{"a":"1"}');
  });
});
