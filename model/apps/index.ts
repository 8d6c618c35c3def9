/** Every application the catalog runs, by name: the one table file wiring reads. */
import { AppName } from "../types";
import { AppDefinition } from "./app";
import { grafana } from "./grafana";
import { haproxy } from "./haproxy";
import { influxdb } from "./influxdb";
import { mosquitto, mosquittoExporter } from "./mosquitto";
import { nats } from "./nats";
import { nodeRed } from "./nodeRed";
import { prometheus } from "./prometheus";
import { redis } from "./redis";

export const APPS: Readonly<Record<AppName, AppDefinition>> = {
  haproxy,
  mosquitto,
  "mosquitto-exporter": mosquittoExporter,
  influxdb,
  grafana,
  // Its telemetry flow reads the MQTT client files at the paths the flow names, not from the environment.
  "node-red": nodeRed,
  redis,
  nats,
  prometheus,
};
