/**
 * Why each policy of the pack exists, for this stack: the part of the docs that is not in the policy
 * objects themselves (they carry what is checked and how to fix it). tests/docs.test.ts fails when a
 * policy has no entry here or an entry names no policy, so the page cannot silently fall behind the pack.
 */
export const POLICY_RATIONALE: Readonly<Record<string, string>> = {
  "enforce-declared-segmentation":
    "Sharing a network is the only thing that lets two Swarm tasks connect; a pair nobody declared is a path an attacker on one service can use to reach the other (the Swarm analogue of a default-deny NetworkPolicy).",
  "disallow-host-and-default-bridge-networks":
    "The host network bypasses every overlay boundary and exposes each listening port on the node; the default bridge is shared by every container on the node, so it segments nothing.",
  "require-internal-networks":
    "An internal overlay has no route through docker_gwbridge, so a compromised database or cache cannot call out; only the one-member egress networks of services that must leave the swarm are exempt.",
  "require-overlay-networks":
    "Swarm services only attach to swarm-scoped networks; a bridge or macvlan network in the stack is either unused or meant for a container outside Swarm's segmentation.",
  "require-admin-source-allowlist":
    "The gateway publishes 443 to everyone; what keeps the Node-RED editor (code execution) and the InfluxDB UI from the internet is its source allowlist, so an allowlist of 0.0.0.0/0 or an admin route without one is an admin UI on the internet.",
  "restrict-attachable-networks":
    "`docker run --network` on any node can join an attachable overlay, putting an unmanaged container inside a tier; tiers stay closed unless a network is explicitly allowed.",
  "restrict-port-publishers":
    "Every published port is an entry point from outside the swarm; keeping them to the gateway (TLS, routing, admin allowlist) and the broker (mTLS) keeps the attack surface to two reviewed services.",
  "disallow-plaintext-mqtt":
    "Device credentials and telemetry would cross the site network in clear text; a plaintext listener in the broker's config is as open to every service on its networks as a published one is to the site.",
  "disallow-sensitive-port-publishing":
    "Databases, caches, admin UIs and metrics endpoints published directly would skip the gateway's TLS and admin allowlist; they are reached through the gateway or not at all.",
  "disallow-host-port-conflicts":
    "Two services on one host port fail at deploy or, worse, one silently wins on some nodes; the program rejects this at config time and the pack checks the resources again.",
  "disallow-privileged-host-ports":
    "Ports below 1024 are the well-known services' ports; only the gateway has a reason to own 80 and 443, and any other claim is probably a mistake or a collision with the host's own services.",
  "enforce-publish-mode":
    "Ingress and host publishing behave differently (routing mesh and VIP versus per-node binding and DNS round-robin); a service in the other mode than the stack expects breaks discovery or updates.",
  "require-host-interface-binding":
    "A plain container publishing on 0.0.0.0 is reachable on every interface of the host, including ones facing networks it was never meant to serve.",
  "require-encrypted-overlay-networks":
    "Overlay traffic between nodes is VXLAN in clear text unless encrypted; in a multi-node swarm it crosses the site network carrying tokens and telemetry.",
  "require-strong-private-keys":
    "The tls provider's defaults are weak (ECDSA defaults to P-224); a weak key undermines every certificate the stack issues.",
  "limit-certificate-validity":
    "Short-lived leaves limit how long a leaked key is useful; clients reject leaf certificates valid for more than 397 days.",
  "require-leaf-certificate-usage":
    "A leaf without extended key usage could serve as both client and server; restricting it stops a device certificate from impersonating the broker.",
  "require-leaf-certificate-sans":
    "TLS clients match the host name against subject alternative names only; a certificate without them fails verification or tempts clients to turn verification off.",
  "restrict-cert-signing-to-ca":
    "A leaf that can sign certificates is a second CA: anyone holding its key could mint certificates the broker and the gateway would trust.",
  "require-mqtt-client-certificates":
    "Without client certificates any client that reaches 8883 can connect, and the broker cannot tell devices apart or map them to ACL users.",
  "require-private-keys-in-secrets":
    "Swarm configs and environment variables are readable by anyone who can inspect the service, and configs are not encrypted at rest; Docker secrets are encrypted in the swarm's Raft log and mounted on tmpfs only in the tasks of services granted them.",
  "require-healthcheck":
    "Without a health check Swarm routes to tasks that are up but not ready, keeps broken tasks running, and cannot tell a failed update from a good one.",
  "disallow-docker-socket-mount":
    "The Docker socket is root on the node and, on a manager, control of the whole swarm, including every secret.",
  "disallow-sensitive-host-mounts":
    "Bind-mounting host system directories lets a container read credentials or rewrite the host; state belongs in named volumes.",
  "disallow-dangerous-capabilities":
    "Capabilities such as NET_ADMIN or SYS_ADMIN let a container change the node's networking or escape its namespaces, undoing the segmentation.",
  "require-dropped-capabilities":
    "Docker's default capability set is broader than any of these services needs; dropping all and adding back only what is needed shrinks what an exploited process can do.",
  "require-memory-limit":
    "A service without a memory limit can exhaust the node and take every other task, including the gateway, down with it.",
  "require-bounded-restart-policy":
    "An endless restart loop hides a broken deploy and can hammer dependencies; a bounded policy lets the failure show and the update roll back.",
  "require-pinned-stateful-services":
    "A named volume is local to the node that created it; when Swarm reschedules an unpinned service (node drain, failure, update) it starts on another node with an empty volume, and two replicas on one volume corrupt it.",
  "require-pinned-image":
    "An unpinned image changes under the stack on the next pull, so nodes can run different code and a rollback does not restore the old behaviour.",
  "require-image-digest":
    "A tag can be re-pushed; only a digest guarantees that every node runs the same reviewed bytes.",
  "disallow-secrets-in-env":
    "Environment variables show in `docker inspect`, in logs of crashed processes and in child processes; secrets go in files from Docker secrets (`*_FILE`). A value the program marked as a Pulumi secret is a secret, whatever its name.",
  "disallow-secrets-in-commands":
    "A command line shows in `docker service inspect`, in `ps` on the node and in process accounting; a password passed as an option leaks to anyone who can list processes.",
  "disallow-credentials-in-configs":
    "Swarm configs are stored unencrypted in the Raft log and any service may mount them; Docker secrets are encrypted at rest and reach only the tasks granted them.",
  "restrict-credentials-to-declared-flows":
    "A credential for a server the service has no declared flow to is access nobody reviewed: a compromised service could use it the moment a network path appears, and it widens what a leak of that service exposes.",
  "disallow-shared-credentials":
    "A credential two clients share cannot tell them apart in the server's ACL or logs, and rotating it after one leak means rolling every holder; one credential per flow keeps a leak, a permission and a rotation to one flow.",
  "require-non-root-user":
    "Root in a container is UID 0 on the node unless user namespaces are remapped; an exploited non-root process has far less to work with.",
  "require-read-only-root-filesystem":
    "A read-only root stops an exploited process from replacing binaries or dropping tools; state and scratch space are explicit volumes and tmpfs.",
  "disallow-privileged-containers":
    "A privileged container has every capability and every host device: it is the host.",
  "disallow-host-namespaces":
    "Sharing the host's PID, IPC or user namespace lets a container see and signal host processes or reach host shared memory.",
  "require-container-security-options":
    "no-new-privileges stops setuid binaries from raising privileges, and the default seccomp and AppArmor profiles block the kernel calls containers do not need.",
};
