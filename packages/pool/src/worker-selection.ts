import type { AffinityMode } from "./pool-types.js";

/** What worker selection needs to know about a call. */
export interface SelectionCall {
  readonly sessionId: string | undefined;
  readonly affinity: AffinityMode;
}

/** What worker selection may ask of the pool's workers; every question is O(1). */
export interface SelectionView<W> {
  /** The worker that served `sessionId` last, if it is still serving (`ready`). */
  sessionWorker(sessionId: string): W | undefined;
  /** True when `worker` may take another call now. */
  hasRoom(worker: W): boolean;
  /** The worker with room a new call takes (an idle one before a busy one), if any. */
  nextWithRoom(): W | undefined;
}

/**
 * Where a new call goes: `run` on a worker now; `wait` in the queue (`preferred` is the
 * session's worker it should take when that frees up); or `busy` — `strict-fail-fast` and the
 * session's worker has no room (the call fails with `SESSION_BUSY`).
 */
export type Selection<W> =
  | { readonly kind: "run"; readonly worker: W }
  | { readonly kind: "wait"; readonly preferred: W | undefined }
  | { readonly kind: "busy"; readonly worker: W };

/**
 * Picks the worker for a new call, the way the pool does (pure; a balancer in piscina's
 * sense). A call with a session goes to its session's worker when that has room; otherwise
 * `strict-fail-fast` is `busy`, `strict-queue` waits for that worker, and `hint` takes any
 * worker. Any other call takes the pool's next worker with room, or waits.
 * When the session's worker is gone, every mode takes any worker.
 */
export function selectWorker<W>(call: SelectionCall, view: SelectionView<W>): Selection<W> {
  const own = call.sessionId === undefined ? undefined : view.sessionWorker(call.sessionId);
  if (own !== undefined) {
    if (view.hasRoom(own)) return { kind: "run", worker: own };
    if (call.affinity === "strict-fail-fast") return { kind: "busy", worker: own };
    if (call.affinity === "strict-queue") return { kind: "wait", preferred: own };
  }
  const worker = view.nextWithRoom();
  return worker === undefined ? { kind: "wait", preferred: own } : { kind: "run", worker };
}

/**
 * May a queued call run on `worker`, which has room? Yes in `hint` mode or without a session;
 * with strict affinity only when `worker` is the session's worker or that worker is gone.
 */
export function mayRunOn<W>(call: SelectionCall, worker: W, view: SelectionView<W>): boolean {
  if (call.sessionId === undefined || call.affinity === "hint") return true;
  const own = view.sessionWorker(call.sessionId);
  return own === undefined || own === worker;
}
