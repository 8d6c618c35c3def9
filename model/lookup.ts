/** Finding services by what they run, so that nothing depends on what a service is called. */
import { AppName, ServiceSpec } from "./types";

/** The service running `app`, if the topology has one (the catalog holds one service per application). */
export function serviceRunning(
  t: { readonly services: readonly ServiceSpec[] },
  app: AppName,
): ServiceSpec | undefined {
  return t.services.find((s) => s.app === app);
}
