/**
 * Finding a service of the stack by its logical name. The program labels every service `iot.service=<name>`;
 * a service replaced create-first carries a generation in its Docker name (model/rollout.ts), and while a
 * replacement is under way two services carry the label.
 */
import Docker from "dockerode";
import { E2E_RUN_LABEL } from "../harness";

export const SERVICE_LABEL = "iot.service";

/** The Swarm services of this run that carry the logical name, newest first. */
export async function servicesOf(docker: Docker, runId: string, logical: string): Promise<Docker.Service[]> {
  const listed = await docker.listServices({
    filters: { label: [`${SERVICE_LABEL}=${logical}`, `${E2E_RUN_LABEL}=${runId}`] },
  });
  return listed.sort((a, b) => String(b.CreatedAt).localeCompare(String(a.CreatedAt)));
}

/** The one service of this run with the logical name (the newest during a replacement). */
export async function serviceOf(docker: Docker, runId: string, logical: string): Promise<Docker.Service> {
  const [newest] = await servicesOf(docker, runId, logical);
  if (!newest) throw new Error(`no service labelled ${SERVICE_LABEL}=${logical} in run ${runId}`);
  return newest;
}
