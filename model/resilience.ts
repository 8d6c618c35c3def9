/**
 * Single points of failure: the services of a topology that run one task, why they do, and what would
 * remove each. Keyed by the application a service runs (model/types.ts `AppName`), never by its name.
 */
import { STATE_NODE_LABEL } from "./placement";
import { AppName, ServiceSpec, Topology } from "./types";

export interface SinglePoint {
  readonly service: string;
  /** What is lost while its one task is down or being replaced. */
  readonly why: string;
  /** What would let it survive the loss of its task or node. */
  readonly remedy: string;
}

const REMEDY: Record<AppName, string> = {
  haproxy: "more replicas: it keeps no state (prod runs 3 on workers)",
  mosquitto:
    "a clustered MQTT broker, or two Mosquitto brokers bridged, with devices that fail over between them; Mosquitto itself does not cluster",
  influxdb:
    "InfluxDB's edge data replication to a second instance on another node, or a clustered InfluxDB; writers buffer meanwhile (Node-RED's MQTT session keeps unacknowledged readings on the broker)",
  grafana:
    "singleton: false with an external database (MySQL or PostgreSQL) for its state; it then runs several replicas without a volume",
  "node-red":
    "a standby instance with the same flows and its own broker session, started on failure; Node-RED does not share a flow's state between instances",
  redis:
    "Redis replicas with Sentinel (or Redis Cluster) on other nodes, and clients that follow the Sentinel's primary",
  nats: "a NATS cluster of 3 servers (routes between them) on different nodes; clients list every server",
  prometheus: "a second Prometheus scraping the same targets on another node (alerts deduplicated by Alertmanager)",
  "mosquitto-exporter": "nothing needed: it is stateless and only feeds metrics; a restart loses one scrape",
};

function why(s: ServiceSpec): string {
  const task = s.singleton ? "a singleton (its state or sessions live in one process)" : "configured with one replica";
  const state =
    s.volumes.length > 0
      ? `; its volumes live on one node (${s.placement.join(", ")}), so it stops while that node is down and comes back with it`
      : "; Swarm restarts it on another node within seconds";
  return `${task}${state}`;
}

/** Every service running one task, then the state node itself when several stateful services share it. */
export function singlePointsOfFailure(t: Topology): SinglePoint[] {
  const points: SinglePoint[] = t.services
    .filter((s) => s.replicas === 1)
    .map((s) => ({
      service: s.name,
      why: why(s),
      remedy: s.app ? REMEDY[s.app] : "more replicas, if it keeps no state; otherwise a replicated store of its own",
    }));
  const onStateNode = t.services.filter((s) => s.placement.includes(`node.labels.${STATE_NODE_LABEL} == true`));
  if (onStateNode.length > 1) {
    points.push({
      service: `the node labelled ${STATE_NODE_LABEL}=true`,
      why: `${onStateNode.map((s) => s.name).join(", ")} keep their volumes on it, so losing it stops all of them until it returns`,
      remedy:
        "services.<name>.stateNode spreads stateful services over several nodes (one node each); a replicated volume driver would let them move",
    });
  }
  return points;
}
