import type { Socket } from "node:net";
import { awaitWorkerReady } from "./await-worker-ready.js";
import { environmentVariables } from "./contract.js";
import type { OutputTail } from "./output-tail.js";
import type { SpawnWorkerOptions, WorkerProcess } from "./spawn-worker.js";
import type { WorkerExit } from "./worker-exit.js";

/**
 * Options of `ForkServer.fork`: the same object `spawnWorker` takes, so a pool can use either
 * path. `pythonExecutable`, `adapter` and `runId` may be left out; when given they must equal the
 * fork server's (they are fixed when it starts). `capNativeThreads` and `inheritEnv` are the fork
 * server's too: the thread caps must be in the environment before native libraries are imported,
 * and a forked child starts with its fork server's environment.
 */
export type ForkWorkerOptions = Omit<
  SpawnWorkerOptions,
  "pythonExecutable" | "adapter" | "runId" | "capNativeThreads" | "inheritEnv"
> &
  Partial<
    Pick<
      SpawnWorkerOptions,
      "pythonExecutable" | "adapter" | "runId" | "capNativeThreads" | "inheritEnv"
    >
  >;

/** The three sockets a forked child shares with the host (passed over the fork server's channel). */
export interface ForkChannels {
  readonly control: Socket;
  /** The frames transport's socket (fd 4 in the child), when the worker serves frames. */
  readonly frames?: Socket | undefined;
  readonly stdout: Socket;
  readonly stderr: Socket;
}

/** Environment overrides applied in the child after the fork (`null` removes a variable). */
export function forkedWorkerEnv(o: ForkWorkerOptions): Record<string, string | null> {
  const env: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(o.env ?? {})) env[k] = v ?? null;
  env[environmentVariables.secret] = o.secret ?? null;
  return env;
}

/** What a forked child's readiness wait needs from the fork server. */
export interface ForkedChild {
  readonly pid: number;
  readonly channels: ForkChannels;
  readonly tail: OutputTail;
  readonly exited: Promise<WorkerExit>;
  exit(): WorkerExit | undefined;
}

/**
 * Resolves once the forked child reports ready on its control socket, with the same
 * `WorkerProcess` and the same failures as `spawnWorker` (see `awaitWorkerReady`).
 */
export function awaitForkedWorker(
  options: ForkWorkerOptions,
  adapter: string,
  child: ForkedChild,
): Promise<WorkerProcess> {
  const { control } = child.channels;
  const controlClosed = new Promise<void>((resolve) => control.once("close", () => resolve()));
  return awaitWorkerReady(options, adapter, {
    pid: child.pid,
    control,
    frames: child.channels.frames,
    tail: child.tail,
    exited: child.exited,
    exit: child.exit,
    // An error line may still be in flight on the control socket: let it win.
    afterExit: () => controlClosed,
  });
}
