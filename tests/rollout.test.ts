/**
 * Day-2 order of each service: how a rolling update and a replacement proceed, and the Docker name that lets a
 * successor run beside the original. These decide whether a change costs requests, so each branch is pinned.
 */
import { discoveryAliases, dockerServiceName, replacementOrder, updateOrder } from "../model/rollout";
import { ServiceSpec } from "../model/types";
import { topologyFrom } from "./helpers";

const grafana = topologyFrom({ environment: "dev" }).services.find((s) => s.name === "grafana")!;
/** A service shaped like the reference Grafana, with the three properties the rules read set as given. */
function spec(opts: { singleton: boolean; published: boolean; aliases?: string[] }): ServiceSpec {
  return {
    ...grafana,
    singleton: opts.singleton,
    aliases: opts.aliases ?? ["dashboards"],
    // Its HTTP port, published or not, and a second port never published: one published port is enough.
    ports: [
      ...grafana.ports.map((p) => ({ ...p, published: opts.published ? 13000 : undefined })),
      { ...grafana.ports[0], name: "metrics", port: 9100, published: undefined },
    ],
  };
}

describe("rolling updates", () => {
  it("start the new task first unless two tasks cannot run side by side", () => {
    expect(updateOrder(spec({ singleton: false, published: false }), "host")).toBe("start-first");
    expect(updateOrder(spec({ singleton: false, published: true }), "ingress")).toBe("start-first");
    // A host-mode port is held by one task per node.
    expect(updateOrder(spec({ singleton: false, published: true }), "host")).toBe("stop-first");
    // One process holds the state or the subscriptions.
    expect(updateOrder(spec({ singleton: true, published: false }), "ingress")).toBe("stop-first");
  });
});

describe("replacements", () => {
  it("create the successor first only for a stateless service that publishes nothing", () => {
    expect(replacementOrder(spec({ singleton: false, published: false }))).toBe("create-first");
    expect(replacementOrder(spec({ singleton: true, published: false }))).toBe("delete-first");
    expect(replacementOrder(spec({ singleton: false, published: true }))).toBe("delete-first");
  });

  it("keep a delete-first service's own name", () => {
    expect(dockerServiceName(spec({ singleton: true, published: false }), ["a", "b"])).toBe("grafana");
  });

  it("name a create-first service by what forces its replacement: networks and aliases, in any order", () => {
    const s = spec({ singleton: false, published: false, aliases: ["x", "y"] });
    const name = dockerServiceName(s, ["a", "b"]);
    expect(name).toMatch(/^grafana-[0-9a-f]+$/);
    expect(dockerServiceName(s, ["b", "a"])).toBe(name);
    expect(dockerServiceName({ ...s, aliases: ["y", "x"] }, ["a", "b"])).toBe(name);
    // A change of either gives the successor a name the original does not hold.
    expect(dockerServiceName(s, ["a", "c"])).not.toBe(name);
    expect(dockerServiceName(s, ["a"])).not.toBe(name);
    expect(dockerServiceName({ ...s, aliases: ["x"] }, ["a", "b"])).not.toBe(name);
  });

  it("keep the service's discovery names on both generations", () => {
    const s = spec({ singleton: false, published: false, aliases: ["x", "y"] });
    expect(discoveryAliases(s, "grafana")).toEqual(["x", "y"]);
    expect(discoveryAliases(s, "grafana-0a1b2c")).toEqual(["grafana", "x", "y"]);
  });
});
