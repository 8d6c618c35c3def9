/**
 * The typed topology of the IoT stack. Pure data: no Pulumi imports, so the planner, the docs
 * generator, the policy defaults and the tests all read the same model.
 */

export type Environment = "dev" | "prod" | "e2e";
export type Protocol = "tcp" | "udp";
export type EndpointMode = "vip" | "dnsrr";
export type PublishMode = "ingress" | "host";
/** What speaks on a port; drives docs, health URLs, policy port classes and gateway routes. */
export type AppProtocol = "http" | "https" | "mqtt" | "mqtts" | "redis" | "nats" | "metrics";
/**
 * The application a catalog service runs. It decides which files the program renders for the service
 * (model/apps); what a service is called never does. Services added in stack config run none of these.
 */
export type AppName =
  | "haproxy"
  | "mosquitto"
  | "mosquitto-exporter"
  | "influxdb"
  | "grafana"
  | "node-red"
  | "redis"
  | "nats"
  | "prometheus";

export interface PortSpec {
  /** Short port name, unique within the service (e.g. `mqtts`, `http`). */
  readonly name: string;
  /** Port the container listens on. */
  readonly port: number;
  readonly protocol: Protocol;
  readonly appProtocol: AppProtocol;
  /** One line for the port table. */
  readonly purpose: string;
  /** Host port, when the port is published outside the swarm. */
  readonly published?: number;
}

export interface HealthCheckSpec {
  /** Docker healthcheck test, e.g. `["CMD-SHELL", "..."]`. */
  readonly test: readonly string[];
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly retries: number;
  readonly startPeriodSeconds: number;
  /** HTTP path of the health endpoint on `port`, when the service has one (docs, probes, gateway checks). */
  readonly httpPath?: string;
  /** Port name the health endpoint is served on. */
  readonly portName?: string;
}

export interface ResourceSpec {
  readonly cpus: number;
  readonly memoryMb: number;
  readonly reservedCpus: number;
  readonly reservedMemoryMb: number;
}

export interface ServiceSpec {
  readonly name: string;
  /** The application the service runs, for catalog services; absent for services added in stack config. */
  readonly app?: AppName;
  /** Image pinned by tag (or digest). */
  readonly image: string;
  /** The tiers (networks) the service is a member of; a multi-homed service lists several. */
  readonly tiers: readonly string[];
  /** Role label for operators and policies (`gateway`, `broker`, `database`, ...). */
  readonly role: string;
  readonly ports: readonly PortSpec[];
  readonly health: HealthCheckSpec;
  readonly replicas: number;
  /** Extra DNS names on every network the service joins. */
  readonly aliases: readonly string[];
  readonly endpointMode: EndpointMode;
  /** One process holds the state or the subscriptions (volume data, no clustering): one replica, stop-first updates. */
  readonly singleton: boolean;
  /** Needs traffic to leave the swarm (published ports or external endpoints): gets a private egress network. */
  readonly egress: boolean;
  /** UID the process runs as; secrets and configs are owned by it. */
  readonly uid: number;
  readonly gid: number;
  readonly readOnlyRootFilesystem: boolean;
  readonly capDrop: readonly string[];
  readonly capAdd: readonly string[];
  readonly resources: ResourceSpec;
  readonly placement: readonly string[];
  /** Plain environment; secrets never go here, only `*_FILE` paths. */
  readonly env: Readonly<Record<string, string>>;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  /** Named volumes for state (`name` is unique per stack), mounted at `target`. */
  readonly volumes: readonly { readonly name: string; readonly target: string }[];
  /** tmpfs mounts for scratch paths when the root filesystem is read-only. */
  readonly tmpfs: readonly string[];
  /** External endpoints (managed DB, Redis or NATS outside the swarm) the service talks to. */
  readonly externalEndpoints: readonly ExternalEndpoint[];
}

export interface ExternalEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface TierSpec {
  readonly name: string;
  /** Docker network name (`iot-frontend-network`). */
  readonly network: string;
  readonly description: string;
  /** Whether containers outside the stack may attach (`docker run --network`). */
  readonly attachable: boolean;
}

/** A declared flow: `from` opens connections to `to` on `port`. */
export interface FlowSpec {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly purpose: string;
  /** What the client's identity may do on a server that authenticates it; defaults in model/identity.ts. */
  readonly permissions?: FlowPermissions;
}

/** What an InfluxDB flow identity may do on its bucket. */
export type InfluxAccess = "read" | "write" | "read-write";

/** Permissions of a flow's identity: NATS subjects, Redis key patterns and command rules, or an InfluxDB bucket. */
export interface FlowPermissions {
  readonly subjects?: { readonly publish: readonly string[]; readonly subscribe: readonly string[] };
  readonly keys?: readonly string[];
  readonly commands?: readonly string[];
  /** InfluxDB: the bucket the client reads or writes (default `telemetry`). */
  readonly bucket?: string;
  /** InfluxDB: what it may do there (default by application: Node-RED writes, every other client reads). */
  readonly access?: InfluxAccess;
}

export interface TlsSettings {
  readonly validityDays: number;
  readonly earlyRenewalDays: number;
  readonly caValidityDays: number;
  readonly organization: string;
  /** Broker hostname field devices use; lands in the Mosquitto certificate's SANs. */
  readonly mqttHostname: string;
  /** Client certificates issued by the CA (e.g. node-red for MQTT mTLS). */
  readonly mqttClients: readonly string[];
  /** Re-issue generation: a change re-issues every leaf certificate. */
  readonly reissue?: string;
}

export interface MqttSettings {
  readonly requireClientCertificate: boolean;
  /** Topic ACL per client identity (certificate CN). */
  readonly acl: readonly {
    readonly user: string;
    readonly access: "read" | "write" | "readwrite";
    readonly topic: string;
  }[];
}

export interface Topology {
  readonly environment: Environment;
  readonly domain: string;
  readonly encryptOverlays: boolean;
  readonly publishMode: PublishMode;
  readonly caproverCoexistence: boolean;
  readonly subnetPool: string;
  /** Prefix length of tier and egress networks (first half of the pool). */
  readonly subnetPrefixLength: number;
  /** Prefix length of link networks (second half of the pool). */
  readonly linkSubnetPrefixLength: number;
  /** Subnets pinned by network name (resolves a collision of two planned subnets). */
  readonly subnetPins: Readonly<Record<string, string>>;
  readonly adminCidrs: readonly string[];
  readonly tiers: readonly TierSpec[];
  readonly services: readonly ServiceSpec[];
  readonly flows: readonly FlowSpec[];
  readonly routes: readonly RouteSpec[];
  readonly tls: TlsSettings;
  readonly mqtt: MqttSettings;
  /** Pin images to their registry digests at deploy time. */
  readonly pinImageDigests: boolean;
  /** Platforms tasks are placed on. */
  readonly platforms: readonly { readonly os: string; readonly architecture: string }[];
  /** Rotation generation by credential id (password id or certificate name). */
  readonly rotations: Readonly<Record<string, string>>;
}

/** A gateway route: requests for `host` go to `service:port`. */
export interface RouteSpec {
  /** Host name under the stack's domain, e.g. `grafana` -> grafana.<domain>. */
  readonly subdomain: string;
  readonly service: string;
  readonly port: number;
  /** Restricted to the admin CIDR allowlist. */
  readonly admin: boolean;
  readonly purpose: string;
}
