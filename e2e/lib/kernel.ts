/** What this machine's kernel allows, as far as the stack configs under test depend on it. */
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";

/**
 * Kernel facts the e2e stack config is shaped by. ESP is tried by adding an IPsec state inside a
 * throwaway network namespace (unshare -n: nothing on the host changes, no packet is sent), first
 * plain ESP, then AES-GCM (rfc4106), the transform Docker's encrypted overlays use.
 */
export function kernelFacts(): { ipvs: boolean; esp: boolean; espDetail: string } {
  const ipvs = fs.existsSync("/proc/sys/net/ipv4/vs");
  const state = (algo: string[]) =>
    spawnSync(
      "unshare",
      [
        "-n",
        "ip",
        "xfrm",
        "state",
        "add",
        "src",
        "192.0.2.10",
        "dst",
        "192.0.2.11",
        "proto",
        "esp",
        "spi",
        "0x1000",
        "mode",
        "transport",
        ...algo,
      ],
      { encoding: "utf8" },
    );
  const tried = [
    ["ESP", ["enc", "cbc(aes)", `0x${"0f".repeat(16)}`, "auth", "hmac(sha256)", `0x${"0f".repeat(32)}`]],
    ["ESP with AES-GCM (Docker's transform)", ["aead", "rfc4106(gcm(aes))", `0x${"0f".repeat(20)}`, "128"]],
  ] as const;
  for (const [what, algo] of tried) {
    const r = state([...algo]);
    if (r.status !== 0)
      return {
        ipvs,
        esp: false,
        espDetail: `ip xfrm state add (${what}) in a scratch namespace: ${(r.stderr || String(r.error)).trim()}`,
      };
  }
  return { ipvs, esp: true, espDetail: "ip xfrm accepted ESP states, AES-GCM included" };
}
