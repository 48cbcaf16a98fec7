import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { SnakepitError } from "@snakepit/errors";
import { killWithEscalation } from "@snakepit/process-killer";
import { afterEach, describe, expect, it } from "vitest";
import {
  canFork,
  type ForkServer,
  resolvePythonEnvironment,
  type SpawnWorkerOptions,
  spawnWorker,
  startForkServer,
  type WorkerProcess,
} from "./index.js";

const fixtures = fileURLToPath(new URL("../test/fixtures/", import.meta.url));
const echoAdapter = `${fixtures}echo_adapter.py:EchoAdapter`;
const MiB = 1024 * 1024;

const workers: WorkerProcess[] = [];
const servers: ForkServer[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) {
    await killWithEscalation(w.pid, { firstSignal: "SIGKILL", graceMs: 0, exited: w.exited });
    w.client.close();
  }
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

type Start = Omit<SpawnWorkerOptions, "pythonExecutable" | "adapter" | "workerId" | "runId">;
const modes: [string, (o: Start) => Promise<WorkerProcess>][] = [
  [
    "spawned",
    async (o) => {
      const python = (await resolvePythonEnvironment()).executable;
      const w = await spawnWorker({
        pythonExecutable: python,
        adapter: echoAdapter,
        workerId: "w1",
        runId: "testrun",
        transport: "frames",
        ...o,
      });
      workers.push(w);
      return w;
    },
  ],
];
if (canFork())
  modes.push([
    "forked",
    async (o) => {
      const python = (await resolvePythonEnvironment()).executable;
      let server = servers[0];
      if (server === undefined) {
        server = await startForkServer({
          pythonExecutable: python,
          adapter: echoAdapter,
          runId: "testrun",
        });
        servers.push(server);
      }
      const w = await server.fork({ workerId: "w1", transport: "frames", ...o });
      workers.push(w);
      return w;
    },
  ]);

async function rejection(promise: Promise<unknown>): Promise<SnakepitError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SnakepitError);
    return err as SnakepitError;
  }
  throw new Error("expected a rejection");
}

describe.each(modes)("the frames transport (%s worker)", (_mode, start) => {
  it("serves every WorkerService call over the socketpair, with no socket file", async () => {
    const worker = await start({});
    expect(worker.address).toBe("frames:fd4");
    expect(await worker.client.ping("hi")).toMatchObject({ workerId: "w1", pid: worker.pid });
    expect(await worker.client.heartbeat(7n)).toMatchObject({ sequence: 7n });
    expect((await worker.client.describeTools()).map((t) => t.name)).toContain("echo");
    expect(await worker.client.execute("add", { a: 40, b: 2 })).toMatchObject({ value: 42 });
    const data = Buffer.alloc(3 * MiB, 7);
    const echoed = (await worker.client.execute<Buffer>("echo", { value: data })).value;
    expect(Buffer.compare(echoed, data)).toBe(0);
    const chunks: number[] = [];
    for await (const n of worker.client.executeStream<number>("count", { n: 100 })) chunks.push(n);
    expect(chunks).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await worker.client.shutdown(1000);
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  it("fails a call with arguments over maxMessageBytes alone, before sending, with PAYLOAD_TOO_LARGE", async () => {
    const worker = await start({ maxMessageBytes: MiB });
    const err = await rejection(worker.client.execute("echo", { value: Buffer.alloc(2 * MiB) }));
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect(err.details).toMatchObject({ limit: MiB });
    expect((err.details as { size: number }).size).toBeGreaterThan(2 * MiB);
    expect(await worker.client.execute("add", { a: 1, b: 2 })).toMatchObject({ value: 3 });
  });

  it("fails a call whose result is over maxMessageBytes alone with PAYLOAD_TOO_LARGE", async () => {
    const worker = await start({ maxMessageBytes: MiB });
    const err = await rejection(worker.client.execute("big", { n: 2 * MiB }));
    expect(err.code).toBe("PAYLOAD_TOO_LARGE");
    expect((err.details as { details: unknown }).details).toMatchObject({
      size: 2 * MiB,
      limit: MiB,
    });
    expect(await worker.client.execute("big", { n: 10 })).toMatchObject({
      value: Buffer.from("x".repeat(10)),
    });
  });

  it.each([
    ["oversized", "PROTOCOL_ERROR"],
    ["malformed", "PROTOCOL_ERROR"],
    ["truncated", "PROTOCOL_ERROR"],
  ])(
    "a %s frame from the worker closes the connection: calls on it fail with %s, the worker exits",
    async (kind, code) => {
      const worker = await start({ concurrency: 2 });
      const running = worker.client.execute("sleep", { seconds: 30 });
      const breaking = worker.client.execute("frames_garbage", { kind });
      // Both calls are on the broken connection; neither hangs.
      const errors = await Promise.all([rejection(breaking), rejection(running)]);
      for (const err of errors) expect(err.code).toBe(code);
      // The worker reads EOF on its end and exits (a pool replaces it).
      await worker.exited;
      expect((await rejection(worker.client.ping())).code).toBe(code);
    },
  );

  it("cancels a running call on abort and on its deadline; the worker keeps serving", async () => {
    const worker = await start({});
    const controller = new AbortController();
    const aborted = worker.client.execute("sleep", { seconds: 30 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect((await rejection(aborted)).code).toBe("ABORTED");
    const late = worker.client.execute("sleep", { seconds: 30 }, { timeoutMs: 100 });
    expect((await rejection(late)).code).toBe("CALL_TIMEOUT");
    // The cancellation reached Python: the tool stopped, so the next call runs at once.
    expect(await worker.client.execute("add", { a: 1, b: 1 }, { timeoutMs: 10_000 })).toMatchObject(
      { value: 2 },
    );
    expect((await worker.client.heartbeat(1n)).inFlight).toBe(0);
  });

  it("one signal shared by many calls: one listener, and its abort ends its calls alone", async () => {
    const worker = await start({ concurrency: 4 });
    const shared = new AbortController();
    for (let i = 0; i < 20; i++)
      await worker.client.execute("add", { a: i, b: 1 }, { signal: shared.signal });
    expect(getEventListeners(shared.signal, "abort")).toHaveLength(1);
    const sleeping = [1, 2].map(() =>
      worker.client.execute("sleep", { seconds: 30 }, { signal: shared.signal }),
    );
    const other = worker.client.execute("sleep", { seconds: 0.3 });
    setTimeout(() => shared.abort(), 100);
    for (const call of sleeping) expect((await rejection(call)).code).toBe("ABORTED");
    expect(await other).toMatchObject({ value: 0.3 });
    expect((await worker.client.heartbeat(1n)).inFlight).toBe(0);
    const fresh = new AbortController();
    expect(
      await worker.client.execute("add", { a: 2, b: 2 }, { signal: fresh.signal }),
    ).toMatchObject({ value: 4 });
  });
});
