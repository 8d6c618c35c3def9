/**
 * The flow grammar the pack reads: `"client -> server:port"` in the policy config (`allowedFlows`), and
 * `server:port,server:port` in a client's `iot.flows` label. The iot-swarm-net program writes both forms
 * (stack config `flows`, and the labels of each service); tests/contracts holds the two in step. Names are
 * read more loosely than the program writes them (upper case, `_` and `.` too), so stacks written by hand fit.
 * Pure.
 */

const NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*";

export const FLOW_PATTERN = new RegExp(`^\\s*(${NAME})\\s*->\\s*(${NAME})\\s*(?::\\s*(\\d{1,5}))?\\s*$`);

export interface Flow {
  readonly from: string;
  readonly to: string;
  /** Absent: any port. */
  readonly port?: number;
}

export interface LabelFlow {
  readonly server: string;
  readonly port?: number;
}

/** `"grafana -> influxdb:8086"` -> `{ from: "grafana", to: "influxdb", port: 8086 }`; `undefined` when malformed. */
export function parseFlow(text: string): Flow | undefined {
  const match = FLOW_PATTERN.exec(text);
  if (!match) return undefined;
  return { from: match[1], to: match[2], port: match[3] ? Number(match[3]) : undefined };
}

/** `"influxdb:8086, prometheus:9090"` -> the servers and ports a client declares; empty entries are skipped. */
export function parseFlowsLabel(value: string | undefined): LabelFlow[] {
  return (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      const colon = entry.lastIndexOf(":");
      const server = (colon < 0 ? entry : entry.slice(0, colon)).trim();
      const port = colon < 0 ? "" : entry.slice(colon + 1).trim();
      return { server, port: /^\d{1,5}$/.test(port) ? Number(port) : undefined };
    });
}
