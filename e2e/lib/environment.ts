/** What an e2e run ran on: engine, kernel and the parts of the stack config the kernel shaped. Both runners report it. */
import Docker from "dockerode";
import { Topology } from "../../model/types";
import { kernelFacts } from "./kernel";

export const HARNESS_NOTE =
  "e2e/harness: test stand-in for the Pulumi docker, tls and random providers (Engine API, real X.509, CSPRNG); not used by pulumi up";

export interface EnvironmentFacts {
  readonly kernel: ReturnType<typeof kernelFacts>;
  /** The report's `environment` block. */
  readonly environment: Record<string, unknown>;
}

export async function environmentFacts(docker: Docker, topology: Topology): Promise<EnvironmentFacts> {
  const kernel = kernelFacts();
  const version = await docker.version();
  return {
    kernel,
    environment: {
      dockerEngine: version.Version,
      kernel: version.KernelVersion,
      ipvs: kernel.ipvs,
      ipsecEsp: kernel.esp,
      ipsecEspProbe: kernel.espDetail,
      environment: topology.environment,
      overlayEncryption: topology.encryptOverlays ? "on" : "off",
      publishMode: topology.publishMode,
      endpointModes: [...new Set(topology.services.map((s) => s.endpointMode))],
      harness: HARNESS_NOTE,
    },
  };
}
