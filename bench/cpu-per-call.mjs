// A tool for profiling the hot path (not part of `pnpm bench`): one pool, a closed loop of echo
// calls, 3 rounds, each printing calls/s, Node CPU µs per call (process.cpuUsage: user + system of
// this process) and Python CPU µs per call (utime + stime of every worker, from /proc/<pid>/stat
// before and after the round; one tick = 10 ms, Linux's usual USER_HZ of 100). CPU per call is far
// less disturbed by other load on the machine than calls/s.
//
//   C=64 SIZE=1 T=frames BYTES=100 node bench/cpu-per-call.mjs
//
// Env: C concurrency (default 64), SIZE workers (1), T transport (`frames` | `grpc`, default
// frames), DEPTH pipelineDepth (process profile; default: the pool's), PROFILE (`process` |
// `thread`, default process; thread runs 64 slots per worker, THREADS to change), BYTES size of
// the echoed string (100), N calls per round at most (20000), MS time per round at most (2000).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { echoAdapter as adapter, closedLoop, rate } from "./load.mjs";

const TICK_US = 10_000;

/** utime + stime of the processes, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTicks(pids) {
  let sum = 0;
  for (const pid of pids) {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields from after its closing ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    sum += Number(fields[11]) + Number(fields[12]);
  }
  return sum;
}

export async function cpuPerCall({
  concurrency = 64,
  size = 1,
  transport = "frames",
  pipelineDepth,
  profile = "process",
  threads = 64,
  bytes = 100,
  maxCalls = 20_000,
  maxMs = 2000,
  rounds = 3,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const pool = createPool({
    adapter,
    pythonExecutable: python,
    startMode: "spawn",
    registry: false,
    size,
    transport,
    ...(pipelineDepth === undefined ? {} : { pipelineDepth }),
    ...(profile === "thread" ? { profile, threadsPerWorker: threads } : {}),
  });
  const results = [];
  try {
    await pool.ready();
    const pids = pool.stats().workerDetails.map((w) => w.pid);
    const args = { value: "x".repeat(bytes) };
    const call = () => pool.execute("echo", args);
    await closedLoop(call, { concurrency, maxCalls: 2000, maxMs: 1000 });
    for (let i = 0; i < rounds; i++) {
      const t0 = cpuTicks(pids);
      const r = await closedLoop(call, { concurrency, maxCalls, maxMs });
      const pythonUs = ((cpuTicks(pids) - t0) * TICK_US) / r.done;
      results.push({ perSecond: r.perSecond, nodeUs: r.cpuUsPerCall, pythonUs, done: r.done });
      print(
        `${transport} ${profile}${profile === "thread" ? ` ×${threads}` : ""}, ${size} worker(s), depth ${pipelineDepth ?? "default"}, c=${concurrency}, ${bytes} B: ${rate(r.perSecond)} calls/s (${r.done} calls), Node ${r.cpuUsPerCall.toFixed(1)} µs/call, Python ${pythonUs.toFixed(1)} µs/call`,
      );
    }
  } finally {
    await pool.close();
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  await cpuPerCall({
    concurrency: Number(env.C ?? 64),
    size: Number(env.SIZE ?? 1),
    transport: env.T ?? "frames",
    pipelineDepth: env.DEPTH ? Number(env.DEPTH) : undefined,
    profile: env.PROFILE ?? "process",
    threads: Number(env.THREADS ?? 64),
    bytes: Number(env.BYTES ?? 100),
    maxCalls: Number(env.N ?? 20_000),
    maxMs: Number(env.MS ?? 2000),
  });
}
