/**
 * Undeclared callers (model/identity.ts `undeclaredCallers`): every service that shares a network with a server
 * that authenticates its clients, but has no flow to that port, tries the port from inside its own task with no
 * credentials (it holds none for that server: one identity per flow, checked here against the model too). The
 * server must refuse it for lack of identity:
 * - Redis: `PING` answers `-NOAUTH`;
 * - NATS: a `CONNECT` without a user answers `-ERR 'Authorization Violation'` and never `PONG`;
 * - the broker's MQTTS port: a TLS handshake without a client certificate ends in the broker's alert
 *   (TLS 1.3 "certificate required", 116; TLS 1.2 "handshake failure", 40);
 * - InfluxDB: a v1 query without credentials answers 401.
 * The same attempt from one declared client of each port, without its credentials, is recorded as a control:
 * it shows each server answers these attempts as expected from inside the swarm even when the stack has no
 * undeclared caller (the reference stacks have none: each server's tier and links hold only its clients).
 */
import { INFLUXDB_SETUP } from "../../model/apps/influxdb";
import { authenticatedPorts, identitiesOf, undeclaredCallers, UndeclaredCaller } from "../../model/identity";
import { StackContext } from "../lib/context";
import { shortTlsError } from "../lib/mqttDevice";
import { shellQuote as q, excerpt } from "../lib/util";

export interface CallerResult {
  /** `client -> server:port`. */
  readonly pair: string;
  readonly protocol: UndeclaredCaller["protocol"];
  /** The model gives the client an identity for the server (never, for an undeclared caller). */
  readonly holdsIdentity: boolean;
  /** The server refused the attempt without credentials, and the client holds no identity for it. */
  readonly refused: boolean;
  readonly evidence: string;
}

export interface CallerProbe {
  /** Each undeclared caller of the stack. */
  readonly pairs: CallerResult[];
  /** One declared client per authenticated port, attempting it without its credentials (not counted). */
  readonly controls: CallerResult[];
}

const short = (s: string) => excerpt(s, 120);

/** One attempt without credentials from the client's task, and whether the server refused it. */
async function attempt(ctx: StackContext, c: UndeclaredCaller): Promise<{ refused: boolean; evidence: string }> {
  const host = q(c.server);
  switch (c.protocol) {
    case "redis": {
      const r = await ctx.sh(c.client, `printf 'PING\\r\\n' | timeout 8 nc -q 2 -w 3 ${host} ${c.port} 2>&1`);
      return {
        refused: /^-NOAUTH/m.test(r.stdout) && !/\+PONG/.test(r.stdout),
        evidence: `PING without credentials -> ${short(r.stdout)}`,
      };
    }
    case "nats": {
      const connect = `CONNECT ${JSON.stringify({ verbose: true, pedantic: false })}`;
      const r = await ctx.sh(
        c.client,
        `printf '%s\\r\\n' ${q(connect)} PING | timeout 8 nc -q 2 -w 4 ${host} ${c.port} 2>&1`,
      );
      const errors = r.stdout.split("\n").filter((l) => l.startsWith("-ERR"));
      return {
        refused: errors.some((l) => /Authorization Violation/.test(l)) && !/PONG/.test(r.stdout),
        evidence: `CONNECT without a user -> ${errors.join(" ") || short(r.stdout)}`,
      };
    }
    case "mqtts": {
      // stdin stays open 3 s so that s_client reads the broker's alert, which TLS 1.3 sends after the handshake.
      const r = await ctx.sh(
        c.client,
        `sleep 3 | timeout 10 openssl s_client -connect ${host}:${c.port} ` +
          `-servername ${q(ctx.topology.tls.mqttHostname)} 2>&1`,
      );
      const alert = /alert (certificate required|handshake failure).*SSL alert number (116|40)\b/s.test(r.stdout);
      return {
        refused: alert,
        evidence: `TLS without a client certificate -> ${alert ? shortTlsError(r.stdout) : short(r.stdout)}`,
      };
    }
    case "influxdb": {
      const url = `http://${c.server}:${c.port}/query?db=${encodeURIComponent(INFLUXDB_SETUP.bucket)}&q=SHOW%20MEASUREMENTS`;
      const r = await ctx.sh(c.client, `curl -sS -m 10 -o /dev/null -w '%{http_code}' ${q(url)} 2>&1`);
      return { refused: r.stdout.trim() === "401", evidence: `v1 query without credentials -> ${short(r.stdout)}` };
    }
  }
}

/** `control`: a declared client, which holds an identity but presents none here. */
async function probeOne(ctx: StackContext, c: UndeclaredCaller, control = false): Promise<CallerResult> {
  const holdsIdentity = identitiesOf(ctx.topology, c.client).some((i) => i.server === c.server);
  const pair = `${c.client} -> ${c.server}:${c.port}`;
  const note = control
    ? "declared client, its credentials not presented: "
    : holdsIdentity
      ? "HOLDS an identity for it: "
      : "";
  try {
    const a = await attempt(ctx, c);
    return {
      pair,
      protocol: c.protocol,
      holdsIdentity,
      refused: a.refused && (control || !holdsIdentity),
      evidence: note + a.evidence,
    };
  } catch (e) {
    return {
      pair,
      protocol: c.protocol,
      holdsIdentity,
      refused: false,
      evidence: `${note}could not probe: ${String(e)}`,
    };
  }
}

/** Every undeclared caller of the stack, from its own task; then one declared client per port as a control. */
export async function probeUndeclaredCallers(ctx: StackContext): Promise<CallerProbe> {
  const t = ctx.topology;
  const pairs: CallerResult[] = [];
  for (const c of undeclaredCallers(t)) pairs.push(await probeOne(ctx, c));
  const controls: CallerResult[] = [];
  for (const p of authenticatedPorts(t)) {
    const flow = t.flows.find((f) => f.to === p.server && f.port === p.port && ctx.tasks[f.from]?.length);
    if (flow) controls.push(await probeOne(ctx, { ...p, client: flow.from }, true));
  }
  return { pairs, controls };
}
