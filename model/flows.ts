/**
 * Flows as stack config writes them (`"client -> server:port"`): parsing, and what makes one
 * impossible. The merge leaves out a flow with problems; validation reports them.
 */
import { ServiceSpec } from "./types";

const FLOW_PATTERN = /^\s*([a-z][a-z0-9-]*)\s*->\s*([a-z][a-z0-9-]*)\s*:\s*(\d{1,5})\s*$/;

export interface FlowText {
  readonly from: string;
  readonly to: string;
  readonly port: number;
}

/** The flow a config entry declares, or undefined when the text is not `client -> server:port`. */
export function parseFlow(text: string): FlowText | undefined {
  const match = FLOW_PATTERN.exec(text);
  if (!match) return undefined;
  const [, from, to, port] = match;
  return { from, to, port: Number(port) };
}

/** Why a flow cannot exist between these services (unknown ends, a port the server lacks, a loop); empty when it can. */
export function flowProblems(flow: FlowText, services: ReadonlyMap<string, ServiceSpec>): string[] {
  const problems: string[] = [];
  if (!services.has(flow.from)) problems.push(`unknown service "${flow.from}"`);
  const server = services.get(flow.to);
  if (!server) problems.push(`unknown service "${flow.to}"`);
  else if (!server.ports.some((p) => p.port === flow.port)) {
    problems.push(
      `"${flow.to}" does not listen on ${flow.port}; its ports are: ${server.ports.map((p) => p.port).join(", ")}`,
    );
  }
  if (flow.from === flow.to) problems.push("a service always reaches itself; a flow needs two services");
  return problems;
}
