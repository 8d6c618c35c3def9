/** Public API of the e2e harness (test stand-in for the Pulumi docker, tls and random providers). */
export { E2eHarness, createHarness, loadProgram, programRunning, runProgram, unwrapSecrets } from "./mocks";
export type { HarnessOptions, ProgramRun, RealisedResource, RunProgramOptions } from "./mocks";
export { DeployEngine } from "./engine";
export type { Step, StepOp, StateEntry } from "./engine";
export { CONTRACTS, contractOf } from "./contract/rules";
export { classify, diffInputs, unclassifiedInputs } from "./contract/diff";
export { DockerRealiser, removeAllLabelled, DOCKER_TYPES } from "./docker";
export type { CreatedObject, ObjectKind, TeardownReport } from "./docker";
export { realiseTls, TLS_TYPES } from "./tls";
export { realiseRandom, randomPassword, RANDOM_TYPES } from "./random";
export { serviceSpecBody, networkCreateBody, parseDuration, labelsToMap, base64Data, desiredReplicas } from "./spec";
export {
  PROBE_IMAGE,
  runProbe,
  execIn,
  execInService,
  serviceContainers,
  serviceTasks,
  serviceLogs,
  waitForService,
  describeTasks,
  demux,
  sleep,
} from "./swarm";
export type { ExecResult, ProbeOptions, TaskInfo, WaitOptions } from "./swarm";
export { E2E_LABEL, E2E_RUN_LABEL, E2E_RESOURCE_LABEL, e2eLabels } from "./labels";
