// Per-call cost of the two WorkerClient transports against the same real Python worker:
// @grpc/grpc-js vs the @connectrpc/connect-node gRPC transport, 100-byte echo, over the
// worker's Unix socket. Prints p50/p99 latency at concurrency 1 and throughput at
// concurrency 1/8/64, and the ratio connect/grpc-js measured in the same run.
import { fileURLToPath } from "node:url";
import {
  createGrpcJsWorkerClient,
  createPrivateDirectory,
  resolvePythonEnvironment,
  spawnWorker,
} from "@snakepit/python-bridge";
import { createConnectWorkerClient } from "./connect-worker-client.mjs";
import { echoAdapter as adapter } from "./load.mjs";

const payload = { value: "x".repeat(100) };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function latency(client, calls) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    await client.execute("echo", payload);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

async function throughput(client, concurrency, calls) {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < calls) await client.execute("echo", payload);
    }),
  );
  return calls / ((performance.now() - started) / 1000);
}

export async function benchTransport({ calls = 2000, print = console.log } = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const dir = await createPrivateDirectory();
  const worker = await spawnWorker({
    pythonExecutable: python,
    adapter,
    workerId: "bench",
    runId: "bench",
    listen: dir.socketAddress("bench.sock"),
    concurrency: 64,
  });
  const clients = {
    "grpc-js": createGrpcJsWorkerClient(worker.address),
    connect: createConnectWorkerClient(worker.address),
  };
  const rows = {};
  try {
    for (const [name, client] of Object.entries(clients)) {
      await latency(client, 300); // warm up
      rows[name] = { ...(await latency(client, calls)) };
      for (const c of [1, 8, 64]) rows[name][`c${c}`] = await throughput(client, c, calls);
    }
  } finally {
    for (const client of Object.values(clients)) client.close();
    process.kill(-worker.pid, "SIGTERM");
    await worker.exited;
    worker.client.close();
    await dir.remove();
  }
  const g = rows["grpc-js"];
  const c = rows.connect;
  const lines = [
    "| transport | p50 ms (c=1) | p99 ms (c=1) | calls/s c=1 | calls/s c=8 | calls/s c=64 |",
    "|---|---|---|---|---|---|",
    ...Object.entries(rows).map(
      ([name, r]) =>
        `| ${name} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.c1.toFixed(0)} | ${r.c8.toFixed(0)} | ${r.c64.toFixed(0)} |`,
    ),
    `| grpc-js ÷ connect (latency: connect/grpc-js, >1 = grpc-js better) | ${(c.p50 / g.p50).toFixed(2)} | ${(c.p99 / g.p99).toFixed(2)} | ${(g.c1 / c.c1).toFixed(2)} | ${(g.c8 / c.c8).toFixed(2)} | ${(g.c64 / c.c64).toFixed(2)} |`,
  ];
  for (const line of lines) print(line);
  return { rows, table: lines.join("\n") };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await benchTransport();
}
