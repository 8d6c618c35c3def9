/**
 * The steps a day-2 change must take, derived from the model alone: the network plans, certificate plans,
 * password ids and rendered file templates before and after the change. A network whose planned properties
 * change is replaced; a certificate whose request or re-issue generation changes is replaced, and so is each
 * file that embeds it; a service whose networks or aliases change is replaced, one whose files or settings
 * change is updated. The harness's steps (from the provider contract) must equal these.
 */
import { stackChildNames, STACK_COMPONENT } from "../../components/iotStack";
import { networkResourceName } from "../../components/networks";
import { leafResourceNames } from "../../components/pki";
import { fileResourceName } from "../../components/swarmFile";
import { CONFIG_NAMESPACE, parseStackConfig } from "../../model/config";
import { FileSpec, passwordIds, placeholders, requiresSecret, serviceFiles } from "../../model/files";
import { NetworkPlan, planNetworks } from "../../model/networks";
import { LeafPlan, planCertificates } from "../../model/pki";
import { resolveTopology } from "../../model/resolve";
import { discoveryAliases, dockerServiceName } from "../../model/rollout";
import { ServiceSpec, Topology } from "../../model/types";

export type StepKind = "create" | "update" | "replace" | "delete";
export type ExpectedSteps = Record<StepKind, string[]>;

const T = {
  network: "docker:index/network:Network",
  service: "docker:index/service:Service",
  config: "docker:index/serviceConfig:ServiceConfig",
  secret: "docker:index/secret:Secret",
  key: "tls:index/privateKey:PrivateKey",
  csr: "tls:index/certRequest:CertRequest",
  cert: "tls:index/locallySignedCert:LocallySignedCert",
  password: "random:index/randomPassword:RandomPassword",
};

/** How a step names its resource: `<type> <pulumi name>`. */
export const resourceId = (type: string, name: string) => `${type} ${name}`;

interface Model {
  readonly t: Topology;
  readonly plan: NetworkPlan;
}

export function modelOf(config: Readonly<Record<string, string>>): Model {
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(config))
    if (k.startsWith(`${CONFIG_NAMESPACE}:`)) raw[k.slice(CONFIG_NAMESPACE.length + 1)] = v;
  const t = resolveTopology(parseStackConfig(raw));
  return { t, plan: planNetworks(t) };
}

const names = stackChildNames(STACK_COMPONENT);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function compare<T>(
  before: ReadonlyMap<string, T>,
  after: ReadonlyMap<string, T>,
  replaced: (a: T, b: T) => boolean,
): { created: string[]; deleted: string[]; replaced: string[]; kept: string[] } {
  const out = { created: [] as string[], deleted: [] as string[], replaced: [] as string[], kept: [] as string[] };
  for (const [k, b] of after) {
    if (!before.has(k)) out.created.push(k);
    else if (replaced(before.get(k)!, b)) out.replaced.push(k);
    else out.kept.push(k);
  }
  for (const k of before.keys()) if (!after.has(k)) out.deleted.push(k);
  return out;
}

/** What a file depends on at deploy time: the leaves, keys and passwords its template names. */
function fileDependsOn(f: FileSpec) {
  const refs = placeholders(f.template);
  return {
    certs: refs.filter((p) => p.kind === "cert" || p.kind === "expiry").map((p) => p.name),
    keys: refs.filter((p) => p.kind === "key").map((p) => p.name),
    passwords: refs.filter((p) => p.kind === "password").map((p) => p.name),
  };
}

/** The settings of a service that update it in place (everything but its networks and aliases). */
function serviceSettings(m: Model, s: ServiceSpec) {
  const files = serviceFiles(m.t, s);
  return {
    image: s.image,
    replicas: s.replicas,
    env: { ...s.env, ...files.env },
    flows: m.t.flows.filter((f) => f.from === s.name).map((f) => `${f.to}:${f.port}`),
    tiers: s.tiers,
    role: s.role,
    ports: s.ports,
    health: s.health,
    placement: s.placement,
    resources: s.resources,
    command: s.command,
    args: s.args,
    user: [s.uid, s.gid],
    readOnly: s.readOnlyRootFilesystem,
    caps: [s.capAdd, s.capDrop],
    mounts: [s.volumes, s.tmpfs],
    endpointMode: s.endpointMode,
    publishMode: m.t.publishMode,
    platforms: m.t.platforms,
    files: files.files.map((f) => [f.name, f.target, f.mode, f.kind]),
  };
}

export function expectedSteps(
  beforeConfig: Record<string, string>,
  afterConfig: Record<string, string>,
): ExpectedSteps {
  const before = modelOf(beforeConfig);
  const after = modelOf(afterConfig);
  const steps: ExpectedSteps = { create: [], update: [], replace: [], delete: [] };
  const add: Add = (kind, type, name) => steps[kind].push(resourceId(type, name));
  const replacedNetworks = networkSteps(before, after, add);
  const renewed = { ...certificateSteps(before, after, add), passwords: passwordSteps(before, after, add) };
  const touched = fileSteps(before, after, add, renewed);
  serviceSteps(before, after, add, { replacedNetworks, touched });
  for (const kind of Object.keys(steps) as StepKind[]) steps[kind].sort();
  return steps;
}

type Add = (kind: StepKind, type: string, name: string) => void;

/** Networks: every input is ForceNew. Returns the networks replaced. */
function networkSteps(before: Model, after: Model, add: Add): string[] {
  const nets = compare(
    new Map(before.plan.networks.map((n) => [n.name, n])),
    new Map(after.plan.networks.map((n) => [n.name, n])),
    (a, b) => !same({ ...a, services: [], description: "" }, { ...b, services: [], description: "" }),
  );
  const netName = (n: string) => networkResourceName(names.networks, n);
  nets.created.forEach((n) => add("create", T.network, netName(n)));
  nets.deleted.forEach((n) => add("delete", T.network, netName(n)));
  nets.replaced.forEach((n) => add("replace", T.network, netName(n)));
  return nets.replaced;
}

/**
 * Certificates: a new key when rotated, a new request when its subject or names change, a new
 * certificate then, or when its validity, usage or the re-issue generation change. Returns the
 * leaves with a new certificate and those with a new key.
 */
function certificateSteps(before: Model, after: Model, add: Add) {
  const leaves = (m: Model) => new Map(planCertificates(m.t).map((l) => [l.name, l]));
  const rekeyed = (l: LeafPlan) => before.t.rotations[l.name] !== after.t.rotations[l.name];
  const requestChanged = (a: LeafPlan, b: LeafPlan) =>
    rekeyed(b) ||
    !same([a.commonName, a.dnsNames], [b.commonName, b.dnsNames]) ||
    before.t.tls.organization !== after.t.tls.organization;
  const certChanges = compare(
    leaves(before),
    leaves(after),
    (a, b) =>
      requestChanged(a, b) ||
      !same([a.validityHours, a.usage], [b.validityHours, b.usage]) ||
      before.t.tls.reissue !== after.t.tls.reissue,
  );
  const newCerts = new Set([...certChanges.created, ...certChanges.replaced]);
  const newKeys = new Set<string>(certChanges.created);
  for (const leaf of certChanges.created)
    for (const [k, type] of [
      ["key", T.key],
      ["csr", T.csr],
      ["cert", T.cert],
    ] as const)
      add("create", type, leafResourceNames(names.pki, leaf)[k]);
  for (const leaf of certChanges.deleted)
    for (const [k, type] of [
      ["key", T.key],
      ["csr", T.csr],
      ["cert", T.cert],
    ] as const)
      add("delete", type, leafResourceNames(names.pki, leaf)[k]);
  for (const leaf of certChanges.replaced) {
    const a = leaves(before).get(leaf)!;
    const b = leaves(after).get(leaf)!;
    if (rekeyed(b)) {
      newKeys.add(leaf);
      add("replace", T.key, leafResourceNames(names.pki, leaf).key);
    }
    if (requestChanged(a, b)) add("replace", T.csr, leafResourceNames(names.pki, leaf).csr);
    add("replace", T.cert, leafResourceNames(names.pki, leaf).cert);
  }
  for (const leaf of certChanges.kept) {
    if (leaves(before).get(leaf)!.earlyRenewalHours !== leaves(after).get(leaf)!.earlyRenewalHours)
      add("update", T.cert, leafResourceNames(names.pki, leaf).cert);
  }
  return { certs: newCerts, keys: newKeys };
}

/** Passwords: keepers change with the rotation generation. Returns the passwords with a new value. */
function passwordSteps(before: Model, after: Model, add: Add): Set<string> {
  const pw = compare(
    new Map(passwordIds(before.t).map((id) => [id, before.t.rotations[id]])),
    new Map(passwordIds(after.t).map((id) => [id, after.t.rotations[id]])),
    (a, b) => a !== b,
  );
  pw.created.forEach((id) => add("create", T.password, names.password(id)));
  pw.deleted.forEach((id) => add("delete", T.password, names.password(id)));
  pw.replaced.forEach((id) => add("replace", T.password, names.password(id)));
  return new Set([...pw.created, ...pw.replaced]);
}

interface Renewed {
  readonly certs: ReadonlySet<string>;
  readonly keys: ReadonlySet<string>;
  readonly passwords: ReadonlySet<string>;
}

/**
 * Files: a new object (content-named) when the rendered template or a value it embeds changes.
 * Returns the services whose files changed.
 */
function fileSteps(before: Model, after: Model, add: Add, renewed: Renewed): Set<string> {
  const filesOf = (m: Model) =>
    new Map(
      m.t.services.flatMap((s) =>
        serviceFiles(m.t, s).files.map(
          (f) => [fileResourceName(names.service(s.name), f.name), { service: s.name, f }] as const,
        ),
      ),
    );
  const typeOf = (f: FileSpec) => (f.kind === "secret" || requiresSecret(f.template) ? T.secret : T.config);
  const files = compare(filesOf(before), filesOf(after), (a, b) => {
    const deps = fileDependsOn(b.f);
    return (
      a.f.template !== b.f.template ||
      deps.certs.some((c) => renewed.certs.has(c)) ||
      deps.keys.some((k) => renewed.keys.has(k)) ||
      deps.passwords.some((p) => renewed.passwords.has(p))
    );
  });
  const touched = new Set<string>();
  for (const [kind, list, m] of [
    ["create", files.created, after],
    ["replace", files.replaced, after],
    ["delete", files.deleted, before],
  ] as const) {
    for (const name of list) {
      const { service, f } = filesOf(m).get(name)!;
      add(kind, typeOf(f), name);
      touched.add(service);
    }
  }
  return touched;
}

/** Services: replaced when their Docker name, aliases or networks change, else updated when anything else does. */
function serviceSteps(
  before: Model,
  after: Model,
  add: Add,
  changed: { replacedNetworks: readonly string[]; touched: ReadonlySet<string> },
): void {
  const { touched } = changed;
  const identity = (m: Model, s: ServiceSpec) => {
    const networks = m.plan.attachments[s.name];
    const name = dockerServiceName(s, networks);
    return { name, aliases: discoveryAliases(s, name), networks: [...networks].sort() };
  };
  const services = compare(
    new Map(before.t.services.map((s) => [s.name, s])),
    new Map(after.t.services.map((s) => [s.name, s])),
    (a, b) =>
      !same(identity(before, a), identity(after, b)) ||
      identity(after, b).networks.some((n) => changed.replacedNetworks.includes(n)),
  );
  services.created.forEach((s) => add("create", T.service, names.service(s)));
  services.deleted.forEach((s) => add("delete", T.service, names.service(s)));
  services.replaced.forEach((s) => add("replace", T.service, names.service(s)));
  for (const s of services.kept) {
    const a = before.t.services.find((x) => x.name === s)!;
    const b = after.t.services.find((x) => x.name === s)!;
    if (touched.has(s) || !same(serviceSettings(before, a), serviceSettings(after, b)))
      add("update", T.service, names.service(s));
  }
}
