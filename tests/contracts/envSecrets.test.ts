/**
 * Contract: which environment variables hold a secret. The program rejects them in stack config before any
 * resource exists (model/validateServices.ts, the env check of each service); the pack reports them on the
 * resources a stack declares (disallow-secrets-in-env). Both apply one rule, policies/lib/secretEnv.ts
 * `secretEnvReason`; this test reads the program's side through its output (a stack config that sets each variable
 * through `services.<svc>.env`, and the config errors the program answers with), so it fails if the program stops
 * applying the pack's rule or applies it to something else. The two must agree on every name and every value.
 */
import fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import { secretEnvReason } from "../../policies/lib/secretEnv";
import { configError, topologyFrom } from "../helpers";

const SERVICE = "grafana";
/** A value that is a secret by nothing but the name it is given (no path, no URL, no token shape). */
const VALUE = "changeme";

const NAMES = [
  "PASSWORD",
  "DB_PASSWORD",
  "MYSQL_ROOT_PASSWORD",
  "PGPASSWORD",
  "DB_PASSWD",
  "DB_PASS",
  "REDIS_PASSWORD_FILE",
  "GF_SECURITY_ADMIN_PASSWORD__FILE",
  "DB_PASSWORD_PATH",
  "SECRET",
  "JWT_SECRET",
  "CLIENT_SECRET",
  "SECRET_KEY_BASE",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_ACCESS_KEY_ID",
  "TOKEN",
  "GITHUB_TOKEN",
  "MYTOKEN",
  "DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE",
  "TOKEN_TTL",
  "API_KEY",
  "APIKEY",
  "XAPIKEY",
  "PRIVATE_KEY",
  "PRIVATEKEY",
  "SSH_PRIVATE_KEY_PATH",
  "MQTT_KEY",
  "MQTT_KEY_FILE",
  "SSH_PUBLIC_KEY",
  "CREDENTIALS",
  "GOOGLE_APPLICATION_CREDENTIALS",
  "PASSPHRASE",
  "KEY_PASSPHRASE",
  "REDIS_REQUIREPASS",
  "GF_SECURITY_SECRET_KEY",
  "LOG_LEVEL",
  "TZ",
  "KEYCLOAK_URL",
  "MONKEY_BUSINESS",
  "PASSWORDLESS_LOGIN",
  "SECRETARY_NAME",
];

/**
 * Values that are secrets by their content, whatever the name, and values that are not. Written out here rather
 * than taken from the pack's patterns, so the program is also held to what it must reject, not only to agreement.
 */
const PEM_BODY = "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5mLNTf6Jq0HTYoAoGCCqGSM49AwEHoUQDQgAEb";
const VALUES: Record<string, string> = {
  PEM: `-----BEGIN EC PRIVATE KEY-----\n${PEM_BODY}\n-----END EC PRIVATE KEY-----`,
  RANDOM: "Zq7XbN4pLw2Vt9RcYh3KmE8sUd6FjGa5",
  URL: "postgres://grafana:Wr0ngHorse@db:5432/grafana",
  SETTING: "host=db;user=grafana;password=Wr0ngHorse",
  GITHUB: `ghp_${"aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"}`,
  PATH: "/run/secrets/db_password",
  WORD: "changeme",
  HEX: "3f786850e387550fdab836ed7e6dc881de23001b",
  UUID: "123e4567-e89b-12d3-a456-426614174000",
  HOST: "mosquitto.iot.internal",
  EMPTY: "",
};

const configWithEnv = (env: Readonly<Record<string, string>>) => ({
  environment: "dev",
  services: { [SERVICE]: { env } },
});

const withValue = (names: readonly string[], value = VALUE) => Object.fromEntries(names.map((n) => [n, value]));

/** The names among `env`'s keys that the program rejects, read from its config error (one problem per key). */
function rejectedByProgram(env: Readonly<Record<string, string>>): Set<string> {
  const message = configError(configWithEnv(env));
  const problems = message.split("\n").filter((line) => line.startsWith("  - "));
  const rejected = new Set<string>();
  for (const problem of problems) {
    const match = /^ {2}- iot-swarm-net:services\.grafana\.env\.(\S+): looks like a secret/.exec(problem);
    if (!match) throw new Error(`unexpected config problem: ${problem}`);
    rejected.add(match[1]);
  }
  return rejected;
}

const flaggedByPack = (name: string, value = VALUE) => secretEnvReason(name, value) !== undefined;

/** Where the program and the pack disagree about `env` (both lists empty when they agree). */
function disagreement(env: Readonly<Record<string, string>>) {
  const rejected = rejectedByProgram(env);
  const names = Object.keys(env);
  return {
    programOnly: names.filter((n) => rejected.has(n) && !flaggedByPack(n, env[n])),
    packOnly: names.filter((n) => !rejected.has(n) && flaggedByPack(n, env[n])),
  };
}

describe("environment secrets, between the program's config check and the pack", () => {
  it("agree on every name", () => {
    expect(rejectedByProgram(withValue(NAMES)).size).toBeGreaterThan(0);
    expect(disagreement(withValue(NAMES))).toEqual({ programOnly: [], packOnly: [] });
  });

  it("agree on every value, under a name that says nothing and under one that says secret", () => {
    for (const name of ["GREETING", "DB_PASSWORD"]) {
      const env = Object.fromEntries(Object.entries(VALUES).map(([tag, value]) => [`${name}_${tag}`, value]));
      expect(disagreement(env)).toEqual({ programOnly: [], packOnly: [] });
    }
    const rejected = rejectedByProgram(
      Object.fromEntries(Object.entries(VALUES).map(([t, v]) => [`GREETING_${t}`, v])),
    );
    expect([...rejected].sort()).toEqual(
      ["GREETING_GITHUB", "GREETING_PEM", "GREETING_RANDOM", "GREETING_SETTING", "GREETING_URL"].sort(),
    );
  });

  it("never prints a value the program rejects, not even in part", () => {
    const env = Object.fromEntries(Object.entries(VALUES).map(([t, v]) => [`GREETING_${t}`, v]));
    const message = configError(configWithEnv(env));
    for (const tag of ["PEM", "RANDOM", "URL", "SETTING", "GITHUB"]) {
      expect(message).toContain(`services.${SERVICE}.env.GREETING_${tag}: looks like a secret`);
    }
    for (const secret of [PEM_BODY.slice(0, 12), VALUES.RANDOM.slice(0, 8), "Wr0ngHorse", VALUES.GITHUB.slice(0, 12)]) {
      expect(message).not.toContain(secret);
    }
  });

  it("means by accepted that the program deploys the variable", () => {
    const accepted = NAMES.filter((n) => !rejectedByProgram(withValue(NAMES)).has(n));
    const env = topologyFrom(configWithEnv(withValue(accepted))).services.find((s) => s.name === SERVICE)!.env;
    for (const name of accepted) expect(env[name]).toBe(VALUE);
  });

  it("agree on names built from secret and other words", () => {
    const word = fc.constantFrom(
      "DB",
      "PG",
      "MY",
      "API",
      "ADMIN",
      "PRIVATE",
      "KEY",
      "PASSWORD",
      "PASSWD",
      "PASS",
      "SECRET",
      "TOKEN",
      "FILE",
      "PATH",
      "URL",
      "ID",
      "LOG",
      "LEVEL",
    );
    const name = fc
      .tuple(fc.array(word, { minLength: 1, maxLength: 4 }), fc.constantFrom("_", "", "__"))
      .map(([words, joint]) => words.join(joint));
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 8 }), (names) => {
        expect(disagreement(withValue(names))).toEqual({ programOnly: [], packOnly: [] });
      }),
      { numRuns: 300 },
    );
  });

  it("is a rule the program can import: the pack's files import nothing but each other", () => {
    const dir = path.join(__dirname, "../../policies/lib");
    const imports = (file: string) =>
      [...fs.readFileSync(path.join(dir, file), "utf8").matchAll(/\b(?:from|import|require\()\s*"([^"]+)"/g)].map(
        (m) => m[1],
      );
    expect(imports("secretEnv.ts")).toEqual(["./secretPatterns"]);
    expect(imports("secretPatterns.ts")).toEqual([]);
  });
});
