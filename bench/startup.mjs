// Worker start-up, plain spawn vs fork server, in one run: time until 10 / 50 / 100 workers are
// all ready (started at once) and the PSS of each idle worker (sum of `Pss:` in
// /proc/<pid>/smaps_rollup), with an adapter that imports json, decimal and sqlite3 and opens a
// database in setup(). Fork times exclude the fork server's own one-time start, which is shown
// apart; PSS per worker is shown without and with the fork server's PSS shared out.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  canFork,
  createPrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
  startForkServer,
} from "@snakepit/python-bridge";

const adapter = fileURLToPath(
  new URL(
    "../packages/python-bridge/test/fixtures/preload_adapter.py:PreloadAdapter",
    import.meta.url,
  ),
);
const MIB = 1024 * 1024;

function pssBytes(pid) {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}

async function stopAll(workers) {
  for (const w of workers) {
    try {
      process.kill(-w.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const w of workers) {
    await w.exited;
    w.client.close();
  }
}

/** Starts `n` workers at once with `start`, returns the time until all are ready and their PSS. */
async function round(n, start, dir, prefix) {
  const t0 = performance.now();
  const settled = await Promise.allSettled(
    Array.from({ length: n }, (_, i) =>
      start({ workerId: `${prefix}${i}`, listen: dir.socketAddress(`${prefix}${i}.sock`) }),
    ),
  );
  const readyMs = performance.now() - t0;
  const workers = settled.filter((s) => s.status === "fulfilled").map((s) => s.value);
  try {
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    // Each worker answers one call, then idles before it is measured.
    await Promise.all(workers.map((w) => w.client.execute("total", { amounts: ["0.1", "0.2"] })));
    await new Promise((r) => setTimeout(r, 300));
    const pss = workers.reduce((sum, w) => sum + pssBytes(w.pid), 0) / n;
    return { readyMs, pss };
  } finally {
    await stopAll(workers);
  }
}

export async function benchStartup({ sizes = [10, 50, 100], print = console.log } = {}) {
  if (!canFork()) throw new Error("bench/startup.mjs needs a platform where canFork() is true");
  const pythonExecutable = (await resolvePythonEnvironment()).executable;
  const dir = await createPrivateDirectory("bench");
  const rows = [];
  let server;
  try {
    const s0 = performance.now();
    server = await startForkServer({ pythonExecutable, adapter, runId: "bench-startup" });
    const serverStartMs = performance.now() - s0;
    const base = { pythonExecutable, adapter, runId: "bench-startup" };
    for (const n of sizes) {
      const spawned = await round(n, (o) => spawnWorker({ ...base, ...o }), dir, `s${n}-`);
      const forked = await round(n, (o) => server.fork(o), dir, `f${n}-`);
      const serverPss = pssBytes(server.pid);
      rows.push({ n, spawned, forked, serverPss, serverStartMs });
    }
  } finally {
    await server?.close();
    await dir.remove();
  }
  const f = (x, d = 0) => x.toFixed(d);
  const lines = [
    "| workers | spawn: all ready ms | fork: all ready ms | speed-up | spawn PSS MiB/worker | fork PSS MiB/worker | fork PSS incl. server share | PSS ratio |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.n} | ${f(r.spawned.readyMs)} | ${f(r.forked.readyMs)} | ${f(r.spawned.readyMs / r.forked.readyMs, 1)}x | ${f(r.spawned.pss / MIB, 1)} | ${f(r.forked.pss / MIB, 1)} | ${f((r.forked.pss * r.n + r.serverPss) / r.n / MIB, 1)} | ${f(r.spawned.pss / r.forked.pss, 1)}x |`,
    ),
  ];
  const serverStart = rows[0]?.serverStartMs ?? 0;
  lines.push(
    "",
    `Fork server start (one-time imports, not in the fork column): ${f(serverStart)} ms; its own PSS ${f((rows.at(-1)?.serverPss ?? 0) / MIB, 1)} MiB.`,
  );
  const table = lines.join("\n");
  print(table);
  return table;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchStartup();
}
