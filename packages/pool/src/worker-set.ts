import { WorkerSlot, type WorkerSlotState } from "./worker-slot.js";

/**
 * The workers of one pool: membership, worker ids, the ready count, and the LRU list of workers
 * with room, kept in step with every state change and every booked or finished call. All O(1):
 * the host's cost per call does not grow with the pool's size.
 *
 * LRU order: a worker goes to the back of the list when it is given a call (if it still has
 * room) or when a finished call gives it room again ({@link touch}); {@link leastRecentlyUsed}
 * is the front — the worker with room that has waited longest.
 */
export class WorkerSet<Call> {
  readonly #workers = new Map<string, WorkerSlot<Call>>();
  readonly #prefix: string;
  #counter = 0;
  #ready = 0;
  #held = 0;
  #head: WorkerSlot<Call> | undefined;
  #tail: WorkerSlot<Call> | undefined;

  /** @param prefix worker ids are `<prefix>-1`, `<prefix>-2`, ... */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Adds a new worker in state `starting`, with the next id. */
  create(capacity: number, maxRequests: number | undefined): WorkerSlot<Call> {
    const worker = new WorkerSlot<Call>(
      `${this.#prefix}-${++this.#counter}`,
      capacity,
      maxRequests,
    );
    this.#workers.set(worker.id, worker);
    return worker;
  }

  get(id: string): WorkerSlot<Call> | undefined {
    return this.#workers.get(id);
  }

  has(id: string): boolean {
    return this.#workers.has(id);
  }

  get size(): number {
    return this.#workers.size;
  }

  /** Workers in state `ready` (with room or not). */
  get readyCount(): number {
    return this.#ready;
  }

  /** Calls held by all workers together (booked and not yet released). */
  get heldCount(): number {
    return this.#held;
  }

  values(): IterableIterator<WorkerSlot<Call>> {
    return this.#workers.values();
  }

  /** Moves `worker` to `next` (see {@link WorkerSlot.transition}), keeping the count and the LRU list in step. */
  transition(worker: WorkerSlot<Call>, next: WorkerSlotState): boolean {
    const wasReady = worker.state.kind === "ready";
    if (!worker.transition(next)) return false;
    const isReady = next.kind === "ready";
    if (wasReady !== isReady) this.#ready += isReady ? 1 : -1;
    this.#relist(worker);
    return true;
  }

  /** Removes `worker` from the set (it exited or the pool is closing). */
  delete(worker: WorkerSlot<Call>): void {
    if (this.#workers.get(worker.id) !== worker) return;
    this.#workers.delete(worker.id);
    if (worker.state.kind === "ready") this.#ready--;
    this.#unlink(worker);
  }

  /** Books `call` onto `worker`: it counts against the worker's capacity until {@link release}. */
  book(worker: WorkerSlot<Call>, call: Call): void {
    worker.inFlight.add(call);
    worker.callsDispatched++;
    this.#held++;
    if (worker.available) this.touch(worker);
    else this.#unlink(worker);
  }

  /** Frees the room `call` took on `worker`. Returns true when the worker has room now. */
  release(worker: WorkerSlot<Call>, call: Call): boolean {
    if (!worker.inFlight.has(call)) return worker.available;
    worker.finish(call);
    this.#held--;
    if (!worker.available) return false;
    this.touch(worker);
    return true;
  }

  /** Stops (or, with `false`, resumes) booking calls on `worker` while it stays ready. */
  stopBooking(worker: WorkerSlot<Call>, stop = true): void {
    worker.atLimit = stop;
    this.#relist(worker);
  }

  /** Marks `worker` as just used: it goes to the back of the LRU list (if it has room). */
  touch(worker: WorkerSlot<Call>): void {
    this.#unlink(worker);
    if (worker.available && this.#workers.get(worker.id) === worker) this.#append(worker);
  }

  /** The worker with room that was used longest ago, if any. */
  leastRecentlyUsed(): WorkerSlot<Call> | undefined {
    return this.#head;
  }

  /** Workers with room, least recently used first (a copy: safe to book while iterating). */
  withRoom(): WorkerSlot<Call>[] {
    const list: WorkerSlot<Call>[] = [];
    for (let w = this.#head; w !== undefined; w = w.lruNext) list.push(w);
    return list;
  }

  #relist(worker: WorkerSlot<Call>): void {
    if (worker.available) {
      if (!worker.lruListed && this.#workers.get(worker.id) === worker) this.#append(worker);
    } else this.#unlink(worker);
  }

  #append(worker: WorkerSlot<Call>): void {
    worker.lruPrev = this.#tail;
    worker.lruNext = undefined;
    if (this.#tail === undefined) this.#head = worker;
    else this.#tail.lruNext = worker;
    this.#tail = worker;
    worker.lruListed = true;
  }

  #unlink(worker: WorkerSlot<Call>): void {
    if (!worker.lruListed) return;
    const { lruPrev: prev, lruNext: next } = worker;
    if (prev === undefined) this.#head = next;
    else prev.lruNext = next;
    if (next === undefined) this.#tail = prev;
    else next.lruPrev = prev;
    worker.lruPrev = undefined;
    worker.lruNext = undefined;
    worker.lruListed = false;
  }
}
