import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Pids of every process on the machine (Linux `/proc`). */
export function listPids(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** The `State:` letter of `/proc/<pid>/status`, or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return /^State:\s+(\S)/m.exec(status)?.[1];
  } catch {
    return undefined;
  }
}

/** Fields of `/proc/<pid>/stat` after the command name: [0] state, [1] parent pid, [2] process group. */
function statFields(pid: number): string[] {
  return (readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1] ?? "").split(" ");
}

/** The parent pid of a running process (a forked worker's is its fork server's). Throws when it is gone. */
export function parentPid(pid: number): number {
  return Number(statFields(pid)[1]);
}

/** The process group of a running process. Throws when it is gone. */
export function processGroup(pid: number): number {
  return Number(statFields(pid)[2]);
}

/** Alive means present and not a zombie: a lazy PID 1 leaves killed orphans in state `Z`. */
export function isRunning(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== "Z";
}

/** Pids of running (non-zombie) processes whose environment has `name=value`. */
export function pidsWithEnv(name: string, value: string): number[] {
  const needle = `${name}=${value}`;
  const found: number[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8");
    } catch {
      continue;
    }
    if (environ.split("\0").includes(needle) && isRunning(pid)) found.push(pid);
  }
  return found;
}

/** The command line of a process, joined with spaces, or "" when unreadable. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return "";
  }
}

/** Inodes of the sockets this process holds open. */
function ownSocketInodes(): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m?.[1] !== undefined) inodes.add(m[1]);
    } catch {
      // the fd closed while we looked
    }
  }
  return inodes;
}

/**
 * Listening sockets (TCP on any address, Unix) held by this process, as strings such as
 * `tcp 127.0.0.1:40123` or `unix /tmp/snakepit-x/host.sock`.
 */
export function ownListeningSockets(): string[] {
  const mine = ownSocketInodes();
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st == 0A is LISTEN; column 9 is the inode
      if (cols[3] === "0A" && cols[9] !== undefined && mine.has(cols[9])) {
        const port = Number.parseInt(cols[1]?.split(":")[1] ?? "0", 16);
        out.push(`tcp port ${port}`);
      }
    }
  }
  try {
    for (const line of readFileSync("/proc/net/unix", "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // Flags 00010000 = __SO_ACCEPTCON (listening); column 6 is the inode, 7 the path
      if (cols[3] === "00010000" && cols[6] !== undefined && mine.has(cols[6])) {
        out.push(`unix ${cols[7] ?? "(unnamed)"}`);
      }
    }
  } catch {
    // not Linux
  }
  return out;
}
