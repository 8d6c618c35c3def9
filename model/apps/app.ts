/** What the program knows about an application a catalog service runs: the files it reads and how it is wired. */
import { ServiceFiles } from "../fileSpec";
import { AppName, InfluxAccess, ServiceSpec, Topology } from "../types";

/** The MQTT client files a service got, for the application to be pointed at. */
export interface MqttClientWiring {
  /** The broker the service's declared flow reaches over TLS; absent without such a flow. */
  readonly broker?: { readonly host: string; readonly port: number };
  readonly ca: string;
  /** Client certificate and key: only for services in `tls.mqttClients`. */
  readonly cert?: string;
  readonly key?: string;
}

export interface AppDefinition {
  /** The application's own files (configs it reads, secrets it owns) and the environment pointing at them. */
  readonly files: (t: Topology, s: ServiceSpec) => ServiceFiles;
  /** How the application reads its MQTT client files; services without it get `defaultMqttClientEnv`. */
  readonly mqttClientEnv?: (w: MqttClientWiring) => Record<string, string>;
  /** Applications whose client credentials this one presents when it has a flow to them. */
  readonly presents?: readonly AppName[];
  /** What its InfluxDB identity may do on its bucket unless the flow's permissions say otherwise. @default "read" */
  readonly influxdbAccess?: InfluxAccess;
  /**
   * Where the application keeps a presented credential inside a file of its own (Node-RED: its InfluxDB user and
   * password in its flows' credentials file), so no separate secret file of that credential is mounted.
   */
  readonly presentsIn?: Partial<Record<AppName, { readonly name: string; readonly path: string }>>;
}

/** MQTT client environment for services that name no convention of their own (Node-RED flows, added services). */
export function defaultMqttClientEnv(w: MqttClientWiring): Record<string, string> {
  return {
    ...(w.broker ? { MQTT_BROKER_URL: `mqtts://${w.broker.host}:${w.broker.port}` } : {}),
    MQTT_CA_FILE: w.ca,
    ...(w.cert ? { MQTT_CERT_FILE: w.cert } : {}),
    ...(w.key ? { MQTT_KEY_FILE: w.key } : {}),
  };
}
