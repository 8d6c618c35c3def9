/** Labels on every Docker object the e2e harness creates; cleanup.sh and teardown() select by them. */
export const E2E_LABEL = "iot-swarm-net.e2e";
/** Identifies one harness run, so a teardown removes its own objects and no one else's. */
export const E2E_RUN_LABEL = "iot-swarm-net.e2e.run";
/** Pulumi logical name of the resource an object was created for (diagnostics). */
export const E2E_RESOURCE_LABEL = "iot-swarm-net.e2e.resource";

export function e2eLabels(runId: string, resource?: string): Record<string, string> {
  const labels: Record<string, string> = { [E2E_LABEL]: "1", [E2E_RUN_LABEL]: runId };
  if (resource) labels[E2E_RESOURCE_LABEL] = resource;
  return labels;
}
