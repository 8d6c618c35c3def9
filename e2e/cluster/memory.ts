/**
 * Memory of the whole e2e cluster, sampled while the run lasts. node.sh starts every dockerd in
 * the cgroup iot-cluster/node<i>, and the containers go below it (--cgroup-parent), so that one
 * cgroup holds every daemon, containerd, shim and task of the cluster. Two measures:
 *   - cgroup RSS (memory.stat total_rss): anonymous memory, each page counted once;
 *   - the sum of the processes' VmRSS, as `ps` would add it up (shared pages counted per process).
 * The kernel's own peak (memory.max_usage_in_bytes) also counts page cache and the nodes' tmpfs
 * disks (/var/lib/iot-cluster: images, containers, volumes), whose peak use is reported on its own.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const CGROUP = "/sys/fs/cgroup/memory/iot-cluster";
const MB = 1024 * 1024;

export interface MemoryPeak {
  readonly cgroupRssMb: number;
  readonly processRssSumMb: number;
  readonly cgroupMaxUsageMb: number;
  /** Peak use of the tmpfs holding the nodes' data roots (memory too). */
  readonly disksTmpfsMb: number;
  readonly samples: number;
  /** Peak cgroup RSS per node. */
  readonly perNodeRssMb: Record<string, number>;
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function stat(dir: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(read(path.join(dir, "memory.stat")));
  return m ? Number(m[1]) : 0;
}

function pids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    for (const l of read(path.join(d, "cgroup.procs")).split("\n")) if (l) out.push(Number(l));
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  walk(dir);
  return out;
}

function vmRss(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`));
  return m ? Number(m[1]) * 1024 : 0;
}

export class MemorySampler {
  private timer?: NodeJS.Timeout;
  private rss = 0;
  private sum = 0;
  private count = 0;
  private maxUsage = 0;
  private disks = 0;
  private readonly perNode: Record<string, number> = {};

  start(intervalMs = 2000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    if (!fs.existsSync(CGROUP)) return;
    this.count++;
    this.rss = Math.max(this.rss, stat(CGROUP, "total_rss"));
    this.sum = Math.max(
      this.sum,
      pids(CGROUP).reduce((s, p) => s + vmRss(p), 0),
    );
    try {
      const st = fs.statfsSync("/var/lib/iot-cluster");
      this.disks = Math.max(this.disks, (st.blocks - st.bfree) * st.bsize);
    } catch {
      // Not mounted (yet).
    }
    this.maxUsage = Math.max(this.maxUsage, Number(read(path.join(CGROUP, "memory.max_usage_in_bytes")).trim()) || 0);
    for (const e of fs.readdirSync(CGROUP, { withFileTypes: true }))
      if (e.isDirectory() && e.name.startsWith("node"))
        this.perNode[e.name] = Math.max(this.perNode[e.name] ?? 0, stat(path.join(CGROUP, e.name), "total_rss"));
  }

  /** Stops sampling (a last sample first) and returns the peaks. */
  stop(): MemoryPeak {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return {
      cgroupRssMb: Math.round(this.rss / MB),
      processRssSumMb: Math.round(this.sum / MB),
      cgroupMaxUsageMb: Math.round(this.maxUsage / MB),
      disksTmpfsMb: Math.round(this.disks / MB),
      samples: this.count,
      perNodeRssMb: Object.fromEntries(Object.entries(this.perNode).map(([k, v]) => [k, Math.round(v / MB)])),
    };
  }
}
