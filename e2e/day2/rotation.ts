/**
 * After a flow's password is rotated (`rotations.<server>-<client>`): the client's new task holds the new
 * password, its own user still does what the flow allows and nothing more (the identity probe of
 * e2e/probes/identity.ts, from that task), and the server refuses the old password.
 */
import { planIdentities } from "../../model/identity";
import { execIn } from "../harness";
import { StackContext } from "../lib/context";
import { excerpt } from "../lib/util";
import { IdentityResult, redisCli, redisIdentity } from "../probes/identity";

export interface RotatedIdentity extends IdentityResult {
  readonly credential: string;
  /** The program generated a new value. */
  readonly passwordChanged: boolean;
  /** The client's task holds the new value in its credential file. */
  readonly clientHoldsNew: boolean;
  /** The server answers the old value under the client's user with WRONGPASS. */
  readonly oldPasswordRefused: boolean;
}

export async function probeRotatedIdentity(
  ctx: StackContext,
  credential: string,
  oldPassword: string,
): Promise<RotatedIdentity> {
  const i = planIdentities(ctx.topology).find((x) => x.kind === "password" && x.redis && x.credential === credential);
  if (!i) throw new Error(`no Redis flow identity holds ${credential}`);
  const password = ctx.password(credential);
  // Compared here, never printed: the file's value stays out of the log.
  const task = ctx.tasks[i.client]?.[0];
  const held = task
    ? await execIn(ctx.engineOf(task), task.containerId, ["cat", i.file.path], { timeoutMs: 10_000 })
    : undefined;
  const clientHoldsNew = held?.exitCode === 0 && held.stdout.trim() === password;
  const probe = await redisIdentity(ctx, i);
  const old = await redisCli(ctx, i, i.username, oldPassword, "PING");
  const oldPasswordRefused = /WRONGPASS/.test(old.stdout);
  return {
    ...probe,
    credential,
    passwordChanged: password !== oldPassword,
    clientHoldsNew,
    oldPasswordRefused,
    evidence: [
      `${credential}: ${password !== oldPassword ? "a new value" : "the SAME value"}; ${i.client}'s ${i.file.path} ` +
        `${clientHoldsNew ? "holds it" : `does NOT hold it${held ? ` (exit ${held.exitCode})` : " (no task)"}`}`,
      ...probe.evidence,
      `the old password as ${i.username} -> ${excerpt(old.stdout)}`,
    ],
  };
}
