/**
 * Docker image references, parsed by the grammar of Docker's reference library (distribution/reference):
 *
 *     reference := name [ ":" tag ] [ "@" digest ]
 *     name      := [ domain "/" ] path-component ( "/" path-component )*
 *     domain    := host [ ":" port ]
 *     path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
 *     tag       := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *     digest    := algorithm ":" hex
 *
 * As in Docker, the first component is a registry host only when it has a dot or a port, or is `localhost`.
 * Docker would also take a first component with capitals for a host; that is almost always a mistyped
 * repository (`Grafana/grafana`), so here the repository path must be lower-case, whatever its first part.
 */

export interface ImageRef {
  readonly domain?: string;
  readonly path: string;
  readonly tag?: string;
  readonly digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])`;
const DOMAIN = new RegExp(`^${HOST}(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Digest algorithms Docker verifies, with their hex lengths. */
const DIGESTS: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };
/** Docker's limit on the length of a repository name (domain and path). */
const MAX_NAME = 255;

/** The parsed reference, or why it is not one (the reason names the part at fault). */
export function parseImageRef(text: string): ImageRef | string {
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    const [algorithm, hex, ...extra] = digest.split(":");
    const length = DIGESTS[algorithm];
    if (length === undefined || extra.length > 0 || !new RegExp(`^[a-f0-9]{${length}}$`).test(hex ?? "")) {
      return `the digest must be sha256:<64 hex digits> (or sha512:<128>), not "${digest}"`;
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return `the tag "${tag}" is not a Docker tag (letters, digits, _ . -, at most 128)`;
  }
  if (rest.length === 0) return "the repository name is empty";
  if (rest.length > MAX_NAME) return `the repository name is longer than ${MAX_NAME} characters`;
  const parts = rest.split("/");
  let domain: string | undefined;
  if (parts.length > 1 && (/[.:]/.test(parts[0]) || parts[0] === "localhost")) {
    domain = parts.shift()!;
    if (!DOMAIN.test(domain)) return `the registry "${domain}" is not a host name with an optional port`;
  }
  const path = parts.join("/");
  if (path !== path.toLowerCase()) return `the repository "${path}" must be lower-case`;
  const bad = parts.find((p) => !PATH_COMPONENT.test(p));
  if (bad !== undefined) {
    return `the repository part "${bad}" must be lower-case letters and digits, joined by ".", "_", "__" or "-"`;
  }
  return { domain, path, tag, digest };
}
