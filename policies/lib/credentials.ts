/**
 * The credential grammar the pack reads: `server:credential,server:credential` in a client's `iot.credentials`
 * label (the credentials it holds, and for which server), and `server:credential` entries, or secret names, in
 * `iot.shared-credentials` (those it holds by design together with others). The iot-swarm-net program writes
 * both from its identity plan (model/identity.ts). Pure.
 */
import { commaList } from "./values";

export interface LabelCredential {
  /** As written, e.g. `redis:redis-node-red`. */
  readonly text: string;
  /** The server it authenticates to; undefined when the entry names none. */
  readonly server?: string;
  readonly credential: string;
}

/** `"redis:redis-node-red, nats:nats-node-red"` -> the credentials; an entry without `:` names no server. */
export function parseCredentialsLabel(value: string | undefined): LabelCredential[] {
  return commaList(value).map((text) => {
    const colon = text.indexOf(":");
    if (colon < 0) return { text, credential: text };
    const server = text.slice(0, colon).trim();
    return { text, ...(server ? { server } : {}), credential: text.slice(colon + 1).trim() };
  });
}
