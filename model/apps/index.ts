/** Every application the catalog runs, by name: the one table file wiring reads. */
import { NO_FILES } from "../fileSpec";
import { AppName } from "../types";
import { AppDefinition } from "./app";
import { grafana } from "./grafana";
import { haproxy } from "./haproxy";
import { influxdb } from "./influxdb";
import { mosquitto, mosquittoExporter } from "./mosquitto";
import { nats } from "./nats";
import { prometheus } from "./prometheus";
import { redis } from "./redis";

export const APPS: Readonly<Record<AppName, AppDefinition>> = {
  haproxy,
  mosquitto,
  "mosquitto-exporter": mosquittoExporter,
  influxdb,
  grafana,
  // Node-RED reads no file of its own; its flows read the MQTT client files through the default environment.
  "node-red": { files: () => NO_FILES },
  redis,
  nats,
  prometheus,
};
