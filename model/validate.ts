/**
 * The validation step: every cross-field rule over the stack config and the topology merged from it.
 * It collects all problems, each naming its config key, so one run reports everything.
 */
import { nonPrivateProblem } from "./addressRanges";
import { checkDuplicates } from "./duplicates";
import { egressNetworkName, linkNetworkName } from "./naming";
import { referenceServices } from "./catalog";
import { Cidr, formatCidr, overlaps, parseCidr, subnetCount } from "./cidr";
import { ConfigProblem, configKey, MAX_LEAF_VALIDITY_DAYS, StackConfig } from "./config";
import { flowProblems, parseFlow } from "./flows";
import { serviceRunning } from "./lookup";
import { unbuildableService } from "./merge";
import { DOCKER_RESERVED_SUBNETS } from "./reserved";
import { topicFilterProblem } from "./topicFilter";
import { Topology } from "./types";
import { checkFlowPermissions } from "./validateIdentity";
import { checkObjectNames } from "./validateNames";
import { checkRoutes } from "./validateRoutes";
import { checkAliases, checkPublishedPorts, checkService, Report } from "./validateServices";

export function validateTopology(config: StackConfig, t: Topology): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const report: Report = (path, message) => problems.push({ key: configKey(path), message });
  checkDuplicates(config, report);
  checkTierNetworks(config, t, report);
  checkTierNetworksAgainstGenerated(config, t, report);
  checkServices(config, t, report);
  checkPublishedPorts(config, t.services, report);
  checkAliases(t.services, report);
  checkFlows(config, t, report);
  checkFlowPermissions(config, t, report);
  checkRoutes(config, t, report);
  checkSubnets(config, report);
  checkTls(config, report);
  checkMqttClients(config, t, report);
  checkObjectNames(config, t, report);
  return problems;
}

/** A tier's network name is its own: a stack tier may not take one an earlier tier already has. */
function checkTierNetworks(config: StackConfig, t: Topology, report: Report): void {
  config.tiers.forEach((entry, i) => {
    const network = t.tiers.find((x) => x.name === entry.name)!.network;
    // A tier only the catalog defines (index -1) counts as earlier than every stack tier.
    const earlier = (name: string) => config.tiers.findIndex((x) => x.name === name) < i;
    const clash = t.tiers.find((x) => x.name !== entry.name && x.network === network && earlier(x.name));
    if (clash) {
      report(["tiers", i, "network"], `network name "${clash.network}" is already used by tier "${clash.name}"`);
    }
  });
}

/**
 * A tier network the config names may not take a name the planner generates: any service's egress network or
 * the link network of any two services (not only the pairs that need one now, so adding a flow or dropping a
 * shared tier later cannot make two networks meet under one name). The message names both.
 */
function checkTierNetworksAgainstGenerated(config: StackConfig, t: Topology, report: Report): void {
  const generated = new Map<string, string>();
  const names = t.services.map((s) => s.name);
  for (const s of names) generated.set(egressNetworkName(s), `the egress network of service "${s}"`);
  names.forEach((a, i) => {
    for (const b of names.slice(i + 1)) {
      generated.set(linkNetworkName(a, b), `the link network of services "${a}" and "${b}"`);
    }
  });
  config.tiers.forEach((entry, i) => {
    const owner = entry.network === undefined ? undefined : generated.get(entry.network);
    if (owner) {
      report(
        ["tiers", i, "network"],
        `tier "${entry.name}" may not use network name "${entry.network}": it is the generated name of ${owner}; choose another name`,
      );
    }
  });
}

function checkServices(config: StackConfig, t: Topology, report: Report): void {
  const catalog = new Set(referenceServices.map((s) => s.name));
  for (const [name, override] of Object.entries(config.services)) {
    const problem = unbuildableService(name, override, catalog.has(name));
    if (problem) report(["services", name], problem);
  }
  const tierNames = t.tiers.map((x) => x.name);
  for (const s of t.services) {
    checkService(s, config.services[s.name] ?? {}, config, report);
    s.tiers.forEach((tier, i) => {
      if (!tierNames.includes(tier)) {
        report(["services", s.name, "tiers", i], `unknown tier "${tier}"; tiers are: ${tierNames.join(", ")}`);
      }
    });
  }
}

function checkFlows(config: StackConfig, t: Topology, report: Report): void {
  const services = new Map(t.services.map((s) => [s.name, s]));
  config.flows.forEach(({ flow: text }, i) => {
    const flow = parseFlow(text);
    if (!flow) {
      report(["flows", i], `must read "client -> server:port", but "${text}" was provided`);
      return;
    }
    const problems = flowProblems(flow, services);
    if (problems.length > 0) report(["flows", i], `${problems.join("; ")} in "${text}"`);
  });
}

function checkSubnets(config: StackConfig, report: Report): void {
  let pool: Cidr;
  try {
    pool = parseCidr(config.subnetPool);
  } catch (e) {
    report(["subnetPool"], (e as Error).message);
    return;
  }
  const notPrivate = nonPrivateProblem(pool);
  if (notPrivate) report(["subnetPool"], notPrivate);
  if (subnetCount(pool, config.subnetPrefixLength) === 0) {
    report(
      ["subnetPrefixLength"],
      `must be at least the pool's prefix (/${pool.prefix}), but ${config.subnetPrefixLength} was provided`,
    );
  }
  for (const reserved of DOCKER_RESERVED_SUBNETS) {
    if (overlaps(pool, parseCidr(reserved.cidr))) {
      report(["subnetPool"], `${formatCidr(pool)} overlaps ${reserved.cidr}, used by ${reserved.use}`);
    }
  }
  config.lanSubnets.forEach((text, i) => {
    try {
      const lan = parseCidr(text);
      if (overlaps(pool, lan))
        report(["subnetPool"], `${formatCidr(pool)} overlaps the site LAN subnet ${text} (lanSubnets[${i}])`);
    } catch (e) {
      report(["lanSubnets", i], (e as Error).message);
    }
  });
  for (const [name, text] of Object.entries(config.subnets)) {
    try {
      const problem = nonPrivateProblem(parseCidr(text));
      if (problem) report(["subnets", name], problem);
    } catch (e) {
      report(["subnets", name], (e as Error).message);
    }
  }
  config.adminCidrs.forEach((text, i) => {
    try {
      parseCidr(text);
    } catch (e) {
      report(["adminCidrs", i], (e as Error).message);
    }
  });
}

function checkTls(config: StackConfig, report: Report): void {
  const { tls, mqtt } = config;
  if (tls.validityDays > MAX_LEAF_VALIDITY_DAYS) {
    report(
      ["tls", "validityDays"],
      `must be at most ${MAX_LEAF_VALIDITY_DAYS} days, but ${tls.validityDays} was provided`,
    );
  }
  if (tls.earlyRenewalDays >= tls.validityDays) {
    report(
      ["tls", "earlyRenewalDays"],
      `must be less than validityDays (${tls.validityDays}), but ${tls.earlyRenewalDays} was provided`,
    );
  }
  if (tls.caValidityDays <= tls.validityDays) {
    report(
      ["tls", "caValidityDays"],
      `must exceed validityDays (${tls.validityDays}), but ${tls.caValidityDays} was provided`,
    );
  }
  const clients = new Set(tls.mqttClients);
  mqtt.acl.forEach((entry, i) => {
    const topicProblem = topicFilterProblem(entry.topic);
    if (topicProblem) report(["mqtt", "acl", i, "topic"], topicProblem);
    if (!clients.has(entry.user)) {
      report(
        ["mqtt", "acl", i, "user"],
        `"${entry.user}" has no client certificate; add it to tls.mqttClients (${[...clients].join(", ") || "none"})`,
      );
    }
  });
  if ((config.caCertPem === undefined) !== (config.caKeyPem === undefined)) {
    report(
      [config.caCertPem === undefined ? "caCertPem" : "caKeyPem"],
      "a bring-your-own CA needs both caCertPem and caKeyPem",
    );
  }
}

/** With mTLS on the broker, every in-swarm MQTT client needs a certificate. */
function checkMqttClients(config: StackConfig, t: Topology, report: Report): void {
  const broker = serviceRunning(t, "mosquitto");
  if (!config.mqtt.requireClientCertificate || !broker) return;
  const clients = new Set(config.tls.mqttClients);
  for (const flow of t.flows.filter((f) => f.to === broker.name)) {
    if (!clients.has(flow.from)) {
      report(
        ["tls", "mqttClients"],
        `"${flow.from}" connects to the broker (${flow.from} -> ${flow.to}:${flow.port}) but has no client certificate; add it`,
      );
    }
  }
}
