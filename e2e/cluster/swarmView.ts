/**
 * The manager's view of the stack while nodes come and go: which task of which service runs on
 * which node, and whether every service runs its replicas. A task counts only when the swarm
 * wants it running, it runs, and its node is Ready: after a node is lost, its tasks stay
 * "running" in the manager's store (the node cannot report otherwise) while replacements start.
 * A task with a healthcheck is reported running by its node only once healthy.
 */
import Docker from "dockerode";
import { Topology } from "../../model/types";
import { SERVICE_LABEL } from "../lib/services";

export interface TaskView {
  readonly id: string;
  readonly service: string;
  readonly slot?: number;
  readonly node: string;
  readonly state: string;
  readonly desired: string;
  /** Why a task does not run (e.g. "no suitable node (scheduling constraints not satisfied on 6 nodes)"). */
  readonly error?: string;
}

export interface SwarmView {
  readonly tasks: TaskView[];
  /** Node id -> state ("ready", "down") and availability ("active", "drain"). */
  readonly nodes: Map<string, { state: string; availability: string }>;
}

/** `services`: logical names (the `iot.service` label), as in the topology. */
export async function swarmView(manager: Docker, services: readonly string[]): Promise<SwarmView> {
  const names = new Map<string, string>();
  // By logical name: a stateless service's Docker name carries a generation suffix (model/rollout.ts).
  for (const s of await manager.listServices())
    names.set(s.ID, s.Spec?.Labels?.[SERVICE_LABEL] ?? s.Spec?.Name ?? s.ID);
  const nodes = new Map<string, { state: string; availability: string }>();
  for (const n of (await manager.listNodes()) as any[])
    nodes.set(n.ID, { state: n.Status?.State ?? "unknown", availability: n.Spec?.Availability ?? "unknown" });
  const tasks: TaskView[] = [];
  for (const t of (await manager.listTasks()) as any[]) {
    const service = names.get(t.ServiceID);
    if (!service || !services.includes(service)) continue;
    tasks.push({
      id: t.ID,
      service,
      slot: t.Slot,
      node: t.NodeID ?? "",
      state: t.Status?.State ?? "unknown",
      desired: t.DesiredState ?? "unknown",
      error: t.Status?.Err || undefined,
    });
  }
  return { tasks, nodes };
}

/** Tasks that serve: wanted running, running, on a Ready node. */
export function serving(view: SwarmView, service?: string): TaskView[] {
  return view.tasks.filter(
    (t) =>
      (service === undefined || t.service === service) &&
      t.desired === "running" &&
      t.state === "running" &&
      view.nodes.get(t.node)?.state === "ready",
  );
}

/** Services running fewer serving tasks than their replicas, as `name have/want`. */
export function shortOf(view: SwarmView, topology: Topology): string[] {
  return topology.services
    .map((s) => ({ s, have: serving(view, s.name).length }))
    .filter(({ s, have }) => have < s.replicas)
    .map(({ s, have }) => `${s.name} ${have}/${s.replicas}`);
}

/** Why a service's tasks do not run: the errors of its tasks waiting to be scheduled. */
export function pendingReasons(view: SwarmView, service: string): string[] {
  return [
    ...new Set(
      view.tasks
        .filter((t) => t.service === service && t.desired === "running" && t.state !== "running")
        .map((t) => `${t.state}${t.error ? `: ${t.error}` : ""}`),
    ),
  ];
}
