// The same 100-byte echo through the simplest peers, so the gap to them is visible: python-shell
// (json mode: one JSON line each way, via its own parser) and a raw length-prefixed stdio pipe
// (bench/fixtures/pipe_echo.py; Node frames, Python json.loads/dumps, Node JSON.parse). Both peers
// run one Python process; "concurrency 8" means 8 requests pipelined on its stdin, answered in
// order. The pool is 1 plain-spawned worker (thread profile, 64 slots, as in overhead.mjs).
// Rounds alternate the three; cells are medians.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createPool } from "@snakepit/pool";
import { resolvePythonEnvironment } from "@snakepit/python-bridge";
import { PythonShell } from "python-shell";
import { echoAdapter as adapter, closedLoop, median, quick, rate } from "./load.mjs";

const script = fileURLToPath(new URL("./fixtures/pipe_echo.py", import.meta.url));
const args = { value: "x".repeat(100) };

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
  concurrencies = [1, 8],
  rounds = quick ? 1 : 3,
  maxCalls = quick ? 300 : 5000,
  maxMs = quick ? 150 : 700,
  print = console.log,
} = {}) {
  const python = (await resolvePythonEnvironment()).executable;
  const pool = createPool({
    adapter,
    pythonExecutable: python,
    name: "peers",
    size: 1,
    profile: "thread",
    threadsPerWorker: 64,
    startMode: "spawn",
    registry: false,
  });
  const shell = startShell(python);
  const pipe = startPipe(python);
  const sides = {
    "Snakepit pool (gRPC)": (a) => pool.execute("echo", a),
    "python-shell 5.0.0": (a) => shell.execute(a),
    "raw length-prefixed pipe": (a) => pipe.execute(a),
  };
  const rows = [];
  try {
    await pool.ready();
    for (const execute of Object.values(sides)) {
      const echoed = await execute(args);
      if (echoed !== args.value) throw new Error(`echo returned ${JSON.stringify(echoed)}`);
    }
    for (const c of concurrencies) {
      const rates = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
      for (const execute of Object.values(sides))
        await closedLoop(() => execute(args), { concurrency: c, maxCalls: 200, maxMs });
      for (let r = 0; r < rounds; r++) {
        const names = Object.keys(sides);
        for (let k = 0; k < names.length; k++) {
          const name = names[(k + r) % names.length];
          rates[name].push(
            (await closedLoop(() => sides[name](args), { concurrency: c, maxCalls, maxMs }))
              .perSecond,
          );
        }
      }
      const poolRate = median(rates["Snakepit pool (gRPC)"]);
      for (const name of Object.keys(sides)) {
        const row = { concurrency: c, name, rate: median(rates[name]) };
        row.ratio = row.rate / poolRate;
        rows.push(row);
        print(`  c=${c} ${name}: ${rate(row.rate)}/s (${row.ratio.toFixed(1)}× the pool)`);
      }
    }
  } finally {
    await pool.close();
    await shell.close();
    await pipe.close();
  }
  const lines = [
    "| concurrency | path | calls/s | ÷ pool |",
    "|---|---|---|---|",
    ...rows.map(
      (r) => `| ${r.concurrency} | ${r.name} | ${rate(r.rate)} | ${r.ratio.toFixed(1)}× |`,
    ),
  ];
  const table = lines.join("\n");
  print(table);
  return { table, rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPeers();
