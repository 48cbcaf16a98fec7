// Fakes for the pool's pure units (not shipped): a worker process whose client answers when
// the test says so. Only the parts the dispatcher and the lease touch are real.
import { SnakepitError } from "@snakepit/errors";
import type {
  ExecuteRpcOptions,
  WorkerClient,
  WorkerExit,
  WorkerProcess,
} from "@snakepit/python-bridge";
import type { PendingCall } from "./call-queue.js";
import { WorkerSet } from "./worker-set.js";
import type { WorkerSlot } from "./worker-slot.js";

/** One RPC the fake client received, with the means to settle it. */
export interface FakeRpc {
  readonly tool: string;
  readonly options: ExecuteRpcOptions;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** A fake worker process: `rpcs` lists what it was asked, `exit()` makes it "die". */
export interface FakeProcess extends WorkerProcess {
  readonly rpcs: FakeRpc[];
  /** The in-flight count its heartbeat reports (for stuck detection). */
  inFlight: number;
  exitWith(exit: WorkerExit): void;
}

let nextPid = 100_000;

/** A fake {@link WorkerProcess} whose `execute` settles when the test settles it, or rejects when its signal aborts. */
export function fakeProcess(workerId: string): FakeProcess {
  const rpcs: FakeRpc[] = [];
  let exit: WorkerExit | undefined;
  let onExit: (e: WorkerExit) => void = () => undefined;
  const exited = new Promise<WorkerExit>((resolve) => {
    onExit = resolve;
  });
  const proc: FakeProcess = {
    workerId,
    pid: nextPid++,
    pgid: 0,
    address: "unix:/fake",
    rpcs,
    inFlight: 0,
    exited,
    get exit() {
      return exit;
    },
    outputTail: () => "",
    exitWith(e) {
      exit = e;
      onExit(e);
    },
    client: {
      address: "unix:/fake",
      execute<T>(tool: string, _args: unknown, options: ExecuteRpcOptions = {}) {
        return new Promise<{ value: T; durationMs: number }>((resolve, reject) => {
          const signal = options.signal;
          const onAbort = () => reject(SnakepitError.from(signal?.reason, "ABORTED"));
          signal?.addEventListener("abort", onAbort, { once: true });
          rpcs.push({
            tool,
            options,
            resolve: (value) => {
              signal?.removeEventListener("abort", onAbort);
              resolve({ value: value as T, durationMs: 0 });
            },
            reject: (error) => {
              signal?.removeEventListener("abort", onAbort);
              reject(error);
            },
          });
        });
      },
      heartbeat: async () => ({ inFlight: proc.inFlight }) as never,
      ping: async () => ({}) as never,
      describeTools: async () => [],
      executeStream: () => {
        throw new Error("not faked");
      },
      shutdown: async () => undefined,
      close: () => undefined,
    } as WorkerClient,
  };
  return proc;
}

/** A worker set with `count` ready fake workers of `capacity`. */
export function readyWorkers(
  count: number,
  capacity = 1,
): { set: WorkerSet<PendingCall>; workers: WorkerSlot<PendingCall>[] } {
  const set = new WorkerSet<PendingCall>("w");
  const workers = Array.from({ length: count }, () => {
    const worker = set.create(capacity, undefined);
    worker.process = fakeProcess(worker.id);
    set.transition(worker, { kind: "ready" });
    return worker;
  });
  return { set, workers };
}
