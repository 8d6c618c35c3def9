/**
 * InfluxDB flow identities (model/identity.ts), from inside each client's task, over InfluxDB's v1 API with the
 * user and password the start script created (model/render/influxdb.ts): the client's own user does what its
 * flow allows on its bucket (a write answers 204, a query 200); an operation outside its access is refused (403);
 * no credentials, or its password under another user name, are refused (401). Proven against the InfluxDB
 * stand-in (e2e/images/files/standin.py), which serves InfluxDB 2's routes and answers as its sources do.
 */
import { Identity, planIdentities } from "../../model/identity";
import { StackContext } from "../lib/context";
import { IdentityResult } from "./identity";
import { shellQuote as q, excerpt as short } from "../lib/util";

interface Answer {
  readonly code: string;
  readonly body: string;
}

/** One v1 call from the client's task; credentials go to curl on stdin (`-K -`), not on its command line. */
async function call(
  ctx: StackContext,
  i: Identity,
  op: "write" | "query",
  credentials?: { user: string; password: string },
  db: string = i.influxdb!.bucket,
): Promise<Answer> {
  const bucket = encodeURIComponent(db);
  const base = `http://${i.server}:${i.flow.port}`;
  const url =
    op === "write"
      ? `${base}/write?db=${bucket}&rp=autogen&precision=ms`
      : `${base}/query?db=${bucket}&q=${encodeURIComponent("SELECT * FROM e2e_identity_probe")}`;
  const line = `e2e_identity_probe,client=${i.client} probe=1 ${Date.now()}`;
  const config = credentials ? `user = "${credentials.user}:${credentials.password}"` : "";
  // The body, then the status code on a line of its own (no file: a client's root filesystem may be read-only).
  const r = await ctx.sh(
    i.client,
    `printf '%s\\n' ${q(config)} | curl -sS -m 10 -K - -w '\\n%{http_code}' ` +
      `${op === "write" ? `--data-binary ${q(line)} ` : ""}${q(url)}`,
  );
  const lines = r.stdout.trimEnd().split("\n");
  const code = lines.pop() ?? "";
  const body = lines;
  return { code: code.trim(), body: body.join(" ") || r.stderr };
}

async function influxIdentity(ctx: StackContext, i: Identity): Promise<IdentityResult> {
  const own = { user: i.username, password: ctx.password(i.credential) };
  const access = i.influxdb!.access;
  const allowedOp = access === "read" ? "query" : "write";
  // Outside its access on its bucket: a reader writes, a writer queries. A read-write user has no such
  // operation on its bucket; a database no mapping names is refused instead.
  const outsideOp = access === "read" ? "write" : "query";
  const allowed = await call(ctx, i, allowedOp, own);
  const outside = await call(ctx, i, outsideOp, own, access === "read-write" ? "e2e-unmapped" : undefined);
  const anonymous = await call(ctx, i, allowedOp);
  const otherUser = await call(ctx, i, allowedOp, { user: `not-${i.username}`, password: own.password });
  const expected = allowedOp === "write" ? "204" : "200";
  const outsideRefused = access === "read-write" ? ["403", "404"] : ["403"];
  return {
    flow: `${i.client} -> ${i.server}:${i.flow.port}`,
    user: i.username,
    allowedOk: allowed.code === expected,
    outOfScopeRefused: outsideRefused.includes(outside.code),
    undeclaredRefused: anonymous.code === "401" && otherUser.code === "401",
    evidence: [
      `as ${i.username}: v1 ${allowedOp} ${i.influxdb!.bucket} -> ${allowed.code}`,
      `v1 ${outsideOp} (outside ${access}) -> ${outside.code} ${short(outside.body)}`,
      `without credentials -> ${anonymous.code}`,
      `its password under another user -> ${otherUser.code}`,
    ],
  };
}

/** Every InfluxDB flow identity of the stack, probed from its client. */
export async function probeInfluxIdentities(ctx: StackContext): Promise<IdentityResult[]> {
  const results: IdentityResult[] = [];
  for (const i of planIdentities(ctx.topology).filter((x) => x.influxdb)) results.push(await influxIdentity(ctx, i));
  return results;
}
