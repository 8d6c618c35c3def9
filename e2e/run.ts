/**
 * `npm run e2e`: deploys the real program (index.ts, stack config Pulumi.e2e.yaml) onto a local
 * single-node Docker Swarm and proves that what it declares works: declared flows connect,
 * undeclared pairs are blocked, discovery answers with the right tasks, internal networks have no
 * egress, TLS and mTLS hold, gateway routes, load balancing and failover work, and only the
 * declared ports listen on the host. Writes .e2e/report.json, prints a summary, exits non-zero
 * when a required check fails, and always removes what it created (also on failure or a signal).
 *
 * The program runs in-process under `pulumi.runtime.setMocks` with e2e/harness, a test harness
 * that stands in for the Pulumi docker, tls and random providers (Docker Engine API, real X.509,
 * CSPRNG passwords). `pulumi up` does not use it.
 */
import { abortOn } from "./lib/abort";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { createHarness, E2eHarness, loadProgram, removeAllLabelled, runProgram, waitForService } from "./harness";
import { CONFIG_NAMESPACE, parseStackConfig } from "../model/config";
import { mqttClientCertName } from "../model/pki";
import { planNetworks } from "../model/networks";
import { resolveTopology } from "../model/resolve";
import { Topology } from "../model/types";
import { PROJECT_ROOT, readStackConfig } from "../tools/stackFile";
import { containmentRejected, installContainment, removeContainment } from "./lib/containment";
import { runDay2 } from "./day2/phase";
import { kernelFacts } from "./lib/kernel";
import { StackContext } from "./lib/context";
import { serviceOf } from "./lib/services";
import { runStreamed } from "./lib/host";
import { Progress } from "./lib/progress";
import { errorText, mapLimit, sleep } from "./lib/util";
import { probeDns } from "./probes/dns";
import { probeEgress } from "./probes/egress";
import { balancedRoute, probeFailover, probeLoadBalancing, probeRoutes } from "./probes/gateway";
import { HostPortSnapshot, newPorts, snapshotHostPorts } from "./probes/hostPorts";
import { planProbes, ProgramExports } from "./probes/intent";
import { describePair, flowName, probeFlow, probeForbidden, prometheusTargets } from "./probes/segmentation";
import { Check, probeTls } from "./probes/tls";
import { E2eReport, summary, verdict } from "./report";

const STACK = "e2e";
const OUT_DIR = path.join(PROJECT_ROOT, ".e2e");
const REPORT = path.join(OUT_DIR, "report.json");
const STAND_IN_LABEL = "iot-swarm-net.e2e-image.stand-in";
/** The whole run, engine install and image build included, must finish well inside CI's 15 minutes. */
const DEADLINE_S = Number(process.env.IOT_E2E_DEADLINE_S ?? 1800);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Mutable<Omit<E2eReport, "passed" | "failures">>;

function emptyReport(startedAt: Date): Draft {
  return {
    allowed: { ok: 0, total: 0 },
    forbidden: { blocked: 0, total: 0 },
    dns: { ok: 0, total: 0 },
    tls: { mqttsOk: false, plaintextRefused: false, untrustedClientRefused: false },
    routes: { ok: 0, total: 0 },
    lb: { perReplica: {} },
    failover: { requests: 0, failedRequests: 0, recoverySeconds: null },
    internalEgressBlocked: false,
    hostPorts: { expected: [], found: [] },
    standIns: [],
    run: { runId: "", startedAt: startedAt.toISOString(), stack: STACK, durations: {} },
    environment: {},
    notes: [],
    checks: [],
    details: {},
  };
}

function loadTopology(config: Record<string, string>): Topology {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(config))
    if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  return resolveTopology(parseStackConfig(raw));
}

/** The start of a long message (the harness joins every failed resource's error); the log keeps it whole. */
function brief(text: string, max = 600): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters in .e2e/e2e.log)`;
}

async function leftovers(docker: Docker): Promise<string[]> {
  const f = { filters: { label: ["iot-swarm-net.e2e"] } };
  return [
    ...(await docker.listServices(f)).map((s) => `service ${s.Spec?.Name}`),
    ...(await docker.listNetworks(f)).map((n) => `network ${n.Name}`),
    ...((await docker.listSecrets(f)) as any[]).map((s) => `secret ${s.Spec?.Name}`),
    ...(await docker.listConfigs(f)).map((c) => `config ${c.Spec?.Name}`),
    ...(await docker.listContainers({ all: true, ...f })).map((c) => `container ${c.Names?.[0]}`),
    ...((await docker.listVolumes(f)).Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}

async function main(): Promise<number> {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const progress = new Progress(path.join(OUT_DIR, "e2e.log"));
  const startedAt = new Date();
  const report = emptyReport(startedAt);
  const durations = report.run.durations as Record<string, number>;
  const checks: Check[] = report.checks;
  const details = report.details;
  const fatal: string[] = [];
  let harness: E2eHarness | undefined;
  let docker: Docker | undefined;

  // Teardown runs once, whichever way the run ends: normally, on an error, on a signal or at the deadline.
  let teardownPromise: Promise<void> | undefined;
  const teardown = () =>
    (teardownPromise ??= (async () => {
      const done = progress.step("teardown: remove every service, network, secret, config and volume this run created");
      let removed = 0;
      const errors: string[] = [];
      if (harness) {
        const h = harness;
        const once = (timeoutMs: number) =>
          h.teardown({ timeoutMs }).catch((e) => ({ removed: [], swept: [], errors: [errorText(e)] }));
        const first = await once(120_000);
        // Interrupted mid-deploy, the program may still register a resource whose inputs just
        // resolved: let it land, then sweep this run's label again.
        await Promise.race([h.idle(500), sleep(5000)]);
        const second = await once(60_000);
        removed = first.removed.length + first.swept.length + second.removed.length + second.swept.length;
        // The second pass retries what the first could not remove; what is still there shows in the leftovers.
        errors.push(...second.errors);
        if (first.errors.length) details.teardownFirstPassErrors = first.errors;
      }
      const rejected = containmentRejected();
      const containmentRuleRemoved = removeContainment();
      let left: string[] = [];
      if (docker) left = await leftovers(docker).catch((e) => [`could not list: ${errorText(e)}`]);
      report.teardown = { removed, errors, leftovers: left, containmentRuleRemoved };
      details.containment = { ...(details.containment as object | undefined), rejectedConnections: rejected };
      durations.teardown = done();
      progress.line(
        `  removed ${removed} objects; ${left.length ? `LEFT: ${left.join(", ")}` : "nothing labelled iot-swarm-net.e2e left"}; containment rule ${containmentRuleRemoved ? "removed" : "STILL INSTALLED"}`,
      );
    })());

  const finish = async (): Promise<number> => {
    await teardown();
    durations.total = Math.round(progress.seconds() * 10) / 10;
    const failures = [...fatal.map((f) => `run did not complete: ${f}`), ...verdict(report)];
    const final: E2eReport = { ...report, passed: failures.length === 0, failures };
    fs.writeFileSync(REPORT, JSON.stringify(final, null, 2) + "\n");
    progress.line(`wrote ${path.relative(process.cwd(), REPORT)}`);
    process.stdout.write(`\n${summary(final)}\n\n`);
    await progress.close();
    return final.passed ? 0 : 1;
  };

  let exiting = false;
  const abort = (why: string, code: number) => {
    if (exiting) return;
    exiting = true;
    fatal.push(brief(why));
    progress.line(`${brief(why)}: tearing down before exit`);
    void finish().finally(() => process.exit(code));
  };
  abortOn(abort);
  const watchdog = setTimeout(() => abort(`deadline of ${DEADLINE_S} s reached`, 1), DEADLINE_S * 1000);

  const probe = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const done = progress.step(name);
    try {
      return await fn();
    } catch (e) {
      checks.push({ name: `${name} ran to completion`, ok: false, detail: brief(errorText(e)) });
      progress.line(`  ERROR: ${brief(errorText(e))}`);
      progress.detail(errorText(e));
      return undefined;
    } finally {
      durations[name.split(":")[0]] = done();
    }
  };

  try {
    let done = progress.step("engine: docker engine in single-node swarm mode (e2e/engine.sh)");
    await runStreamed(progress, "engine", "bash", [path.join(__dirname, "engine.sh")]);
    durations.engine = done();

    done = progress.step("images: local images iot-e2e/<service>:e2e (e2e/images/build.sh)");
    await runStreamed(progress, "images", "bash", [path.join(__dirname, "images/build.sh")]);
    durations.images = done();

    docker = new Docker();
    const earlier = await removeAllLabelled(docker);
    if (earlier.swept.length) progress.line(`removed leftovers of an earlier run: ${earlier.swept.length} objects`);
    removeContainment();

    const kernel = kernelFacts();
    const version = await docker.version();
    const { config } = readStackConfig(STACK);
    const topology = loadTopology(config);
    report.environment = {
      dockerEngine: version.Version,
      kernel: version.KernelVersion,
      ipvs: kernel.ipvs,
      ipsecEsp: kernel.esp,
      ipsecEspProbe: kernel.espDetail,
      overlayEncryption: topology.encryptOverlays ? "on" : "off",
      publishMode: topology.publishMode,
      endpointModes: [...new Set(topology.services.map((s) => s.endpointMode))],
      harness:
        "e2e/harness: test stand-in for the Pulumi docker, tls and random providers (Engine API, real X.509, CSPRNG); not used by pulumi up",
    };
    report.notes.push(
      `overlay encryption is ${topology.encryptOverlays ? "on" : "OFF"} in this stack: the kernel ${kernel.esp ? "has" : "has no"} IPsec ESP (${kernel.espDetail}); prod encrypts overlays, so the encrypted data plane is not what this run proves`,
      `VIP endpoints and the ingress routing mesh are not used: IPVS is ${kernel.ipvs ? "present" : "absent"}; services resolve by DNS round-robin (dnsrr) and publish in host mode`,
      "the program runs under e2e/harness, a test stand-in for the docker, tls and random providers; pulumi up does not use it",
    );
    progress.line(
      `kernel: IPVS ${kernel.ipvs ? "present" : "absent"}, IPsec ESP ${kernel.esp ? "present" : "absent"}; stack ${STACK}: encryption ${topology.encryptOverlays ? "on" : "off"}, publish mode ${topology.publishMode}, endpoint modes ${report.environment.endpointModes}`,
    );

    done = progress.step("host ports before the deploy");
    const before: HostPortSnapshot = await snapshotHostPorts(topology);
    progress.line(`  listening before: ${Object.keys(before.sockets).join(" ") || "none"}`);
    durations.hostPortsBefore = done();

    installContainment();
    details.containment = {
      rule: "DOCKER-USER -i docker_gwbridge -m conntrack --ctstate NEW -j REJECT",
      why: "keeps every connection a container opens towards outside this host on the machine while the run lasts",
    };

    done = progress.step(
      "deploy: the real program (index.ts) with Pulumi.e2e.yaml under the provider stand-in harness",
    );
    let converged = 0;
    harness = createHarness({
      convergeTimeoutMs: 150_000,
      log: (l) => {
        progress.detail(`[harness] ${l}`);
        if (/ converged$/.test(l))
          progress.line(`  ${l.replace(/^service /, "")} (${++converged}/${topology.services.length})`);
        else if (/^FAILED/.test(l)) progress.line(`  ${l}`);
      },
    });
    report.run = { ...report.run, runId: harness.runId };
    const program = loadProgram(path.join(PROJECT_ROOT, "index.ts"));
    const { outputs } = await runProgram(harness, program, { stack: STACK, config });
    const exports = outputs as unknown as ProgramExports;
    const kinds = harness.created.reduce<Record<string, number>>((m, o) => ((m[o.kind] = (m[o.kind] ?? 0) + 1), m), {});
    progress.line(
      `  created ${Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}s`)
        .join(
          ", ",
        )}; ${harness.byType("tls:index/locallySignedCert:LocallySignedCert").length} certificates issued by the program's CA`,
    );
    durations.deploy = done();

    done = progress.step("healthy: every service runs all its replicas, healthy");
    await Promise.all(
      topology.services.map(async (s) =>
        waitForService(docker!, (await serviceOf(docker!, harness!.runId, s.name)).ID, {
          timeoutMs: 120_000,
          replicas: s.replicas,
        }),
      ),
    );
    const plan = planNetworks(topology);
    const ctx = new StackContext(harness, topology, plan, exports, progress);
    await ctx.refreshTasks();
    for (const s of topology.services) {
      progress.line(
        `  ${s.name.padEnd(14)} ${ctx.tasks[s.name].length}/${s.replicas} healthy  ${ctx.tasks[s.name].map((t) => t.addrs.map((a) => `${a.network}=${a.ip}`).join(" ")).join(" | ")}`,
      );
    }
    const images = await Promise.all(
      topology.services.map(
        async (s) => [s.name, (await docker!.getImage(s.image).inspect()).Config?.Labels?.[STAND_IN_LABEL]] as const,
      ),
    );
    report.standIns = images.filter(([, upstream]) => upstream).map(([name]) => name);
    details.standIns = Object.fromEntries(images.filter(([, u]) => u));
    durations.healthy = done();

    done = progress.step("host ports after the deploy");
    const after = await snapshotHostPorts(topology);
    const probes = planProbes(topology, exports);
    const opened = newPorts(before, after);
    report.hostPorts = { expected: [...probes.expectedHostPorts], found: opened.found };
    details.hostPorts = {
      compared:
        "listening TCP and bound UDP sockets on this host (ss -ltnu, any address) and TCP connects on 127.0.0.1 to every container port, published port and 1883, before and after the deploy; found = open after and not before",
      holders: opened.holders,
      acceptingAfter: after.accepting,
      listeningBefore: Object.keys(before.sockets),
    };
    progress.line(
      `  expected ${report.hostPorts.expected.join(" ")}; newly open ${opened.found.join(" ") || "none"} (${Object.entries(
        opened.holders,
      )
        .map(([k, v]) => `${k} ${v.join(",")}`)
        .join("; ")})`,
    );
    durations.hostPorts = done();
    for (const p of probes.problems) checks.push({ name: "model and exports agree", ok: false, detail: p });
    details.intent = {
      flows: probes.flows.map(flowName),
      forbiddenPairs: probes.forbidden.length,
      sharedWithoutFlow: probes.sharedWithoutFlow.map((p) => `${p.from} -> ${p.to}`),
    };

    await probe("dns: service names, aliases and tasks.<service> from every peer's task", async () => {
      const results = await probeDns(ctx, probes.dns);
      report.dns = { ok: results.filter((r) => r.ok).length, total: results.length };
      details.dns = results;
      for (const r of results.filter((x) => !x.ok))
        progress.line(`  FAIL ${r.from}: ${r.name} -> ${r.answer} (expected ${r.expected})`);
      progress.line(`  ${report.dns.ok}/${report.dns.total} lookups answered with the right tasks`);
    });

    await probe("allowed: every declared flow at the application level, from the client's task", async () => {
      const results = await mapLimit(probes.flows, 3, async (f) => {
        const r = await probeFlow(ctx, f);
        progress.line(
          `  ${r.ok ? "ok  " : "FAIL"} ${r.flow.padEnd(32)} ${r.protocol.padEnd(6)} ${r.evidence.join("; ")}`,
        );
        return r;
      });
      const jobs = [...new Set(probes.flows.filter((f) => f.from === "prometheus").map((f) => f.to))];
      const targets = jobs.length ? await prometheusTargets(ctx, jobs) : {};
      const final = results.map((r, i) => {
        const f = probes.flows[i];
        const t = f.from === "prometheus" ? targets[f.to] : undefined;
        if (!t) return r;
        const up = t.up === t.expected && t.total === t.expected && t.expected > 0;
        return {
          ...r,
          ok: r.ok && up,
          evidence: [
            ...r.evidence,
            `Prometheus target job ${f.to}: ${t.up}/${t.expected} up${t.errors.length ? ` (${t.errors.join("; ")})` : ""}`,
          ],
        };
      });
      for (const [job, t] of Object.entries(targets))
        progress.line(`  Prometheus scrapes ${job}: ${t.up}/${t.expected} targets up`);
      report.allowed = { ok: final.filter((r) => r.ok).length, total: final.length };
      details.allowed = final;
      progress.line(`  ${report.allowed.ok}/${report.allowed.total} declared flows connect`);
    });

    await probe("forbidden: every undeclared ordered pair, names and every task address on every port", async () => {
      const results = await probeForbidden(ctx, probes.forbidden, (client, rs) => {
        const blocked = rs.filter((r) => r.blocked).length;
        progress.line(
          `  ${blocked === rs.length ? "ok  " : "FAIL"} from ${client.padEnd(14)} ${blocked}/${rs.length} blocked (${rs.map((r) => r.to).join(", ")})`,
        );
        for (const r of rs.filter((x) => !x.blocked))
          progress.line(`       ${client} -> ${r.to} NOT blocked: ${describePair(r)}`);
      });
      report.forbidden = { blocked: results.filter((r) => r.blocked).length, total: results.length };
      details.forbidden = results.map((r) => ({ ...r, summary: describePair(r) }));
      progress.line(`  ${report.forbidden.blocked}/${report.forbidden.total} undeclared pairs blocked`);
    });

    await probe(
      "egress: internal-only tasks cannot reach this host's docker_gwbridge address; egress tasks can (control)",
      async () => {
        const r = await probeEgress(ctx);
        report.internalEgressBlocked = r.blocked;
        details.internalEgress = r;
        for (const x of r.results)
          progress.line(
            `  ${x.ok ? "ok  " : "FAIL"} ${x.service.padEnd(14)} ${x.internalOnly ? "internal only" : "has egress   "} -> ${r.listener}: ${x.connect}${x.seenFrom ? ` (listener saw ${x.seenFrom})` : ""}`,
          );
      },
    );

    await probe("tls: MQTTS with and without client certificates, plaintext, served certificates", async () => {
      const r = await probeTls(ctx);
      report.tls = {
        mqttsOk: r.mqttsOk,
        plaintextRefused: r.plaintextRefused,
        untrustedClientRefused: r.untrustedClientRefused,
      };
      checks.push(...r.checks);
      details.tls = r.details;
      const mqtts = r.details.mqtts as { evidence?: string[] } | string;
      progress.line(
        `  MQTTS with the program's client certificate: ${r.mqttsOk ? "ok" : "FAILED"} (${typeof mqtts === "string" ? mqtts : mqtts.evidence?.join("; ")})`,
      );
      progress.line(
        `  plaintext MQTT refused: ${r.plaintextRefused ? "yes" : "NO"} ${JSON.stringify(r.details.plaintext)}`,
      );
      progress.line(
        `  untrusted client certificate refused: ${r.untrustedClientRefused ? "yes" : "NO"} (${r.details.untrustedClient})`,
      );
      for (const c of r.checks) progress.line(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    });

    await probe("routes: every gateway route reaches its backend", async () => {
      const r = await probeRoutes(ctx);
      report.routes = { ok: r.results.filter((x) => x.ok).length, total: r.results.length };
      checks.push(...r.checks);
      details.routes = r.results;
      for (const x of r.results)
        progress.line(
          `  ${x.ok ? "ok  " : "FAIL"} ${x.route}${x.admin ? " (admin)" : ""}: ${x.fromHost}${x.fromAllowlist ? `; ${x.fromAllowlist}` : ""}`,
        );
      for (const c of r.checks) progress.line(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
    });

    await probe("lb: requests through the gateway spread over every replica", async () => {
      const r = await probeLoadBalancing(ctx);
      report.lb = { perReplica: r.perReplica };
      details.lb = r;
      progress.line(
        `  ${r.requests} requests to ${r.route ?? "?"}: ${Object.entries(r.perReplica)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ")}${Object.keys(r.others).length ? `; others ${JSON.stringify(r.others)}` : ""}; failed ${r.failed}`,
      );
      if (r.failed)
        checks.push({ name: "Load-balanced requests succeed", ok: false, detail: `${r.failed}/${r.requests} failed` });
    });

    await probe("failover: kill one replica while a client sends requests through the gateway", async () => {
      const r = await probeFailover(ctx);
      report.failover = { requests: r.requests, failedRequests: r.failedRequests, recoverySeconds: r.recoverySeconds };
      details.failover = r;
      if (r.error) checks.push({ name: "Failover probe ran", ok: false, detail: r.error });
      checks.push({
        name: "Failover: the replacement replica serves requests",
        ok: r.replacementServed,
        detail: r.replacementServed ? `after ${r.gatewayRecoverySeconds ?? "?"} s` : "never seen in X-Served-By",
      });
      progress.line(
        `  ${r.requests} requests, ${r.failedRequests} failed; killed ${r.killed}; swarm restored it after ${r.recoverySeconds ?? "never"} s; gateway marked it down after ${r.gatewayMarkedDownSeconds ?? "?"} s and used ${ctx.spec(balancedRoute(ctx)?.service ?? "gateway").replicas} servers again after ${r.gatewayRecoverySeconds ?? "?"} s; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`,
      );
    });

    await probe("day2: apply again unchanged, then each day-2 change under traffic", async () => {
      const device = ctx.topology.tls.mqttClients.find((c) => !ctx.topology.services.some((s) => s.name === c));
      if (!device) throw new Error("the e2e stack declares no field device client certificate");
      const leaf = ctx.leaf(mqttClientCertName(device));
      report.day2 = await runDay2({
        harness: harness!,
        load: program,
        stack: STACK,
        config,
        progress,
        device: { name: device, cert: leaf.certPem, key: leaf.keyPem },
      });
    });
  } catch (e) {
    // After a signal or the deadline the teardown pulls the stack from under the run: that error is no news.
    if (!exiting) {
      fatal.push(brief(errorText(e)));
      progress.line(`ERROR: ${brief(errorText(e))}`);
      progress.detail(errorText(e));
    }
  } finally {
    clearTimeout(watchdog);
  }
  if (exiting) return new Promise<number>(() => undefined); // a signal handler owns the exit
  return finish();
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`e2e: ${errorText(e)}\n`);
    process.exit(1);
  },
);
