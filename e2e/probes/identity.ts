/**
 * Identities per flow (model/identity.ts), from inside each client's task: the client's own user and password
 * do what its flow allows; an operation outside its permissions is refused (Redis FLUSHALL and a key outside its
 * patterns, a NATS publish to a subject it was not given); and no credentials, or its password under another
 * user name, are refused. Certificate identities (MQTT) are probed by mqttIdentity.ts and InfluxDB's v1 users by
 * influxIdentity.ts; both are counted here too. Services that share a network with an authenticating server but
 * have no flow to it are probed by undeclaredCallers.ts and counted here as pairs.
 */
import { Identity, planIdentities } from "../../model/identity";
import { StackContext } from "../lib/context";
import { probeInfluxIdentities } from "./influxIdentity";
import { probeMqttIdentities } from "./mqttIdentity";
import type { CallerResult } from "./undeclaredCallers";
import { shellQuote as q, excerpt as short } from "../lib/util";

export interface IdentityResult {
  readonly flow: string;
  readonly user: string;
  readonly allowedOk: boolean;
  readonly outOfScopeRefused: boolean;
  readonly undeclaredRefused: boolean;
  readonly evidence: string[];
}

export interface IdentitySummary {
  readonly flows: number;
  readonly allowedOk: number;
  readonly outOfScopeRefused: number;
  readonly undeclaredRefused: number;
  /**
   * Ordered pairs (client, server) that share a network where the server authenticates its clients but have no
   * flow there (model/identity.ts `undeclaredCallers`), and how many the server refused without credentials.
   */
  readonly undeclaredPairs: number;
  readonly undeclaredPairsRefused: number;
}

/** A key the identity may touch: its first pattern with the wildcards filled in. */
const keyIn = (pattern: string) => pattern.replace(/[*?]/g, "e2e-probe").replace(/\[[^\]]*\]/g, "x");

/** One redis-cli command from the identity's client task to its server, as `user` with `pass` (the password in
 * the environment, never on the command line), or without credentials. */
export function redisCli(
  ctx: StackContext,
  i: Identity,
  user: string | undefined,
  pass: string | undefined,
  command: string,
) {
  return ctx.sh(
    i.client,
    `${pass ? `REDISCLI_AUTH=${q(pass)} ` : ""}timeout 5 redis-cli --no-auth-warning ${user ? `--user ${q(user)} ` : ""}` +
      `-h ${q(i.server)} -p ${i.flow.port} ${command} 2>&1`,
  );
}

export async function redisIdentity(ctx: StackContext, i: Identity): Promise<IdentityResult> {
  const password = ctx.password(i.credential);
  const cli = (user: string | undefined, pass: string | undefined, command: string) =>
    redisCli(ctx, i, user, pass, command);
  const key = keyIn(i.redis!.keys[0] ?? "e2e-probe");
  const set = await cli(i.username, password, `SET ${q(key)} 1`);
  const flush = await cli(i.username, password, "FLUSHALL");
  const outside = await cli(i.username, password, `SET ${q(`outside-${i.client}:e2e-probe`)} 1`);
  const anonymous = await cli(undefined, undefined, `GET ${q(key)}`);
  const otherUser = await cli("default", password, "PING");
  const allowedOk = set.stdout.trim() === "OK";
  const noperm = (s: string) => /NOPERM/.test(s);
  const outOfScopeRefused = noperm(flush.stdout) && (i.redis!.keys.includes("*") || noperm(outside.stdout));
  const undeclaredRefused = /NOAUTH/.test(anonymous.stdout) && /WRONGPASS|NOAUTH/.test(otherUser.stdout);
  return {
    flow: `${i.client} -> ${i.server}:${i.flow.port}`,
    user: i.username,
    allowedOk,
    outOfScopeRefused,
    undeclaredRefused,
    evidence: [
      `as ${i.username}: SET ${key} -> ${short(set.stdout)}`,
      `FLUSHALL -> ${short(flush.stdout)}`,
      `SET outside its keys -> ${short(outside.stdout)}`,
      `GET without credentials -> ${short(anonymous.stdout)}`,
      `its password as user default -> ${short(otherUser.stdout)}`,
    ],
  };
}

async function natsIdentity(ctx: StackContext, i: Identity): Promise<IdentityResult> {
  const password = ctx.password(i.credential);
  const talk = (connect: object, lines: string[]) =>
    ctx.sh(
      i.client,
      `printf '%s\\r\\n' ${[`CONNECT ${JSON.stringify(connect)}`, ...lines, "PING"].map(q).join(" ")} | ` +
        `timeout 8 nc -q 2 -w 4 ${q(i.server)} ${i.flow.port}`,
    );
  const own = { verbose: true, pedantic: false, user: i.username, pass: password };
  const subject = (i.nats!.publish[0] ?? "none").replace(/\*/g, "e2e").replace(/>$/, "e2e-probe");
  const allowed = await talk(own, [`PUB ${subject} 2`, "hi"]);
  const undeclared = await talk(own, [`PUB undeclared-${i.client}.e2e-probe 2`, "hi"]);
  const anonymous = await talk({ verbose: true, pedantic: false }, []);
  const otherUser = await talk({ ...own, user: `not-${i.username}` }, []);
  const errors = (s: string) => s.split("\n").filter((l) => l.startsWith("-ERR"));
  const allowedOk = i.nats!.publish.length > 0 && /PONG/.test(allowed.stdout) && errors(allowed.stdout).length === 0;
  const outOfScopeRefused = /Permissions Violation for Publish/.test(undeclared.stdout);
  const authRefused = (s: string) => /Authorization Violation/.test(s) && !/PONG/.test(s);
  return {
    flow: `${i.client} -> ${i.server}:${i.flow.port}`,
    user: i.username,
    allowedOk,
    outOfScopeRefused,
    undeclaredRefused: authRefused(anonymous.stdout) && authRefused(otherUser.stdout),
    evidence: [
      `as ${i.username}: PUB ${subject} -> ${errors(allowed.stdout).join(" ") || (/PONG/.test(allowed.stdout) ? "+OK, PONG" : short(allowed.stdout))}`,
      `PUB to an undeclared subject -> ${errors(undeclared.stdout).join(" ") || short(undeclared.stdout)}`,
      `CONNECT without credentials -> ${errors(anonymous.stdout).join(" ") || short(anonymous.stdout)}`,
      `its password under another user -> ${errors(otherUser.stdout).join(" ") || short(otherUser.stdout)}`,
    ],
  };
}

/** Every Redis and NATS identity of the stack, probed from its client, then the MQTT and InfluxDB ones. */
export async function probeIdentities(ctx: StackContext): Promise<IdentityResult[]> {
  const results: IdentityResult[] = [];
  for (const i of planIdentities(ctx.topology).filter((x) => x.kind === "password" && !x.influxdb)) {
    results.push(await (i.redis ? redisIdentity(ctx, i) : natsIdentity(ctx, i)));
  }
  results.push(...(await probeMqttIdentities(ctx)));
  results.push(...(await probeInfluxIdentities(ctx)));
  return results;
}

export function summarizeIdentities(
  results: readonly IdentityResult[],
  pairs: readonly CallerResult[] = [],
): IdentitySummary {
  const count = (ok: (r: IdentityResult) => boolean) => results.filter(ok).length;
  return {
    flows: results.length,
    allowedOk: count((r) => r.allowedOk),
    outOfScopeRefused: count((r) => r.outOfScopeRefused),
    undeclaredRefused: count((r) => r.undeclaredRefused),
    undeclaredPairs: pairs.length,
    undeclaredPairsRefused: pairs.filter((p) => p.refused).length,
  };
}
