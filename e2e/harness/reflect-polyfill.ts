/**
 * Minimal Reflect metadata API for @peculiar/x509's dependency injection (tsyringe), which
 * refuses to load without one; reflect-metadata is not a dependency of this project.
 * Only what tsyringe and tslib call: defineMetadata, getOwnMetadata, getMetadata, metadata.
 */
type Target = object;
const store = new WeakMap<Target, Map<string | symbol | undefined, Map<unknown, unknown>>>();

function own(target: Target, prop: string | symbol | undefined, create: boolean) {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let map = byProp.get(prop);
  if (!map && create) {
    map = new Map();
    byProp.set(prop, map);
  }
  return map;
}

const api = {
  defineMetadata(key: unknown, value: unknown, target: Target, prop?: string | symbol) {
    own(target, prop, true)!.set(key, value);
  },
  getOwnMetadata(key: unknown, target: Target, prop?: string | symbol) {
    return own(target, prop, false)?.get(key);
  },
  getMetadata(key: unknown, target: Target, prop?: string | symbol): unknown {
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t)) {
      const map = own(t, prop, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  },
  metadata(key: unknown, value: unknown) {
    return (target: Target, prop?: string | symbol) => api.defineMetadata(key, value, target, prop);
  },
};

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== "function") {
  for (const [name, fn] of Object.entries(api)) R[name] = fn;
}
export {};
