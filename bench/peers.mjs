// The same echo through the pool on both transports and through the simplest peers, so the gap
// is visible: python-shell (json mode: one JSON line each way, via its own parser) and a raw
// length-prefixed stdio pipe (bench/fixtures/pipe_echo.py; Node frames, Python json.loads/dumps,
// Node JSON.parse). Both peers run one Python process; "concurrency 8" means 8 requests pipelined
// on its stdin, answered in order. Pools: default options but the transport (process profile),
// 1 and 2 workers, and the thread profile (64 slots), each plain-spawned. 100-byte and 1 MiB string
// values (JSON on every path). Rounds alternate the paths; cells are medians, and each ratio is
// taken in the same run. Node CPU is this process's user + system time per completed call.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { PythonShell } from "python-shell";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const script = fileURLToPath(new URL("./fixtures/pipe_echo.py", import.meta.url));

/** Answers arrive in request order on both peers: a FIFO of resolvers matches them. */
function fifo() {
  const waiting = [];
  return {
    push: () => new Promise((resolve) => waiting.push(resolve)),
    settle: (value) => waiting.shift()?.(value),
  };
}

function startShell(pythonPath) {
  const shell = new PythonShell(script, { mode: "json", pythonPath, args: ["--lines"] });
  const answers = fifo();
  shell.on("message", (m) => answers.settle(m.value));
  return {
    execute(a) {
      const answer = answers.push();
      shell.send(a);
      return answer;
    },
    async close() {
      await new Promise((resolve) => shell.end(() => resolve()));
    },
  };
}

function startPipe(python) {
  const child = spawn(python, [script], { stdio: ["pipe", "pipe", "inherit"] });
  const answers = fifo();
  let buffered = Buffer.alloc(0);
  child.stdout.on("data", (chunk) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 4) {
      const n = buffered.readUInt32BE(0);
      if (buffered.length < 4 + n) break;
      answers.settle(JSON.parse(buffered.subarray(4, 4 + n).toString("utf8")).value);
      buffered = buffered.subarray(4 + n);
    }
  });
  return {
    execute(a) {
      const answer = answers.push();
      const body = Buffer.from(JSON.stringify(a));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(body.length);
      child.stdin.write(Buffer.concat([header, body]));
      return answer;
    },
    async close() {
      const exited = once(child, "exit");
      child.stdin.end();
      await exited;
    },
  };
}

export async function benchPeers({
  concurrencies = [1, 8, 64],
  rounds = quick ? 1 : 3,
  print = console.log,
  sizes = {
    "100 B": { maxCalls: quick ? 300 : 5000, maxMs: quick ? 150 : 600 },
    "1 MiB": { maxCalls: quick ? 30 : 300, maxMs: quick ? 300 : 1000 },
  },
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const base = { adapter, pythonExecutable: python, startMode: "spawn", registry: false };
  const pools = {
    "pool, frames, 1 worker": createPool({
      ...base,
      name: "frames-1",
      size: 1,
      transport: "frames",
    }),
    "pool, frames, 1 worker, pipelineDepth 4": createPool({
      ...base,
      name: "frames-1p",
      size: 1,
      transport: "frames",
      pipelineDepth: 4,
    }),
    "pool, frames, 2 workers": createPool({
      ...base,
      name: "frames-2",
      size: 2,
      transport: "frames",
    }),
    "pool, frames, thread ×64": createPool({
      ...base,
      name: "frames-t",
      size: 1,
      transport: "frames",
      profile: "thread",
      threadsPerWorker: 64,
    }),
    "pool, gRPC, 1 worker": createPool({ ...base, name: "grpc-1", size: 1, transport: "grpc" }),
    "pool, gRPC, thread ×64": createPool({
      ...base,
      name: "grpc-t",
      size: 1,
      transport: "grpc",
      profile: "thread",
      threadsPerWorker: 64,
    }),
  };
  const shell = startShell(python);
  const pipe = startPipe(python);
  const sides = {
    ...Object.fromEntries(Object.entries(pools).map(([k, p]) => [k, (a) => p.execute("echo", a)])),
    "python-shell 5.0.0": (a) => shell.execute(a),
    "raw length-prefixed pipe": (a) => pipe.execute(a),
  };
  const rows = [];
  try {
    await Promise.all(Object.values(pools).map((p) => p.ready()));
    for (const [size, bounds] of Object.entries(sizes)) {
      const args = { value: "x".repeat(size === "1 MiB" ? 1024 * 1024 : 100) };
      for (const execute of Object.values(sides)) {
        const echoed = await execute(args);
        if (echoed !== args.value) throw new Error(`echo returned ${String(echoed).slice(0, 40)}`);
      }
      for (const c of concurrencies) {
        const runs = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
        for (const execute of Object.values(sides))
          await closedLoop(() => execute(args), {
            concurrency: c,
            maxCalls: 50,
            maxMs: bounds.maxMs / 4,
          });
        for (let r = 0; r < rounds; r++) {
          const names = Object.keys(sides);
          for (let k = 0; k < names.length; k++) {
            const name = names[(k + r) % names.length];
            runs[name].push(
              await closedLoop(() => sides[name](args), { concurrency: c, ...bounds }),
            );
          }
        }
        const cell = (name) => ({
          rate: median(runs[name].map((x) => x.perSecond)),
          cpu: median(runs[name].map((x) => x.cpuUsPerCall)),
        });
        const shellRate = cell("python-shell 5.0.0").rate;
        const pipeRate = cell("raw length-prefixed pipe").rate;
        const grpcRate = cell("pool, gRPC, 1 worker").rate;
        for (const name of Object.keys(sides)) {
          const { rate: r, cpu } = cell(name);
          const row = {
            size,
            concurrency: c,
            name,
            rate: r,
            cpu,
            shell: r / shellRate,
            pipe: r / pipeRate,
            grpc: r / grpcRate,
          };
          rows.push(row);
          print(
            `  ${size} c=${c} ${name}: ${rate(r)}/s, ${cpu.toFixed(1)} µs CPU/call (${row.shell.toFixed(2)}× python-shell, ${row.pipe.toFixed(2)}× pipe, ${row.grpc.toFixed(1)}× gRPC pool)`,
          );
        }
      }
    }
  } finally {
    await Promise.all(Object.values(pools).map((p) => p.close()));
    await shell.close();
    await pipe.close();
  }
  const lines = [
    "| payload | concurrency | path | calls/s | Node CPU µs/call | ÷ python-shell | ÷ raw pipe | ÷ gRPC pool (1 worker) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.size} | ${r.concurrency} | ${r.name} | ${rate(r.rate)} | ${r.cpu.toFixed(1)} | ${r.shell.toFixed(2)}× | ${r.pipe.toFixed(2)}× | ${r.grpc.toFixed(1)}× |`,
    ),
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPeers();
