import { availableParallelism } from "node:os";
import type { Holdable } from "./held-calls.js";
import { WorkerSlot, type WorkerSlotState } from "./worker-slot.js";

/** One intrusive list of workers (links on the workers themselves). */
interface List<Call extends Holdable> {
  head: WorkerSlot<Call> | undefined;
  tail: WorkerSlot<Call> | undefined;
}

const IDLE = 0;
const BUSY = 1;

/**
 * The workers of one pool: membership, worker ids, the ready count, and the workers with room —
 * idle ones (no call) and busy ones that still have room (a thread-profile worker, or a
 * process-profile worker with a pipeline window) — kept in step with every state change and
 * every booked or finished call. All O(1): the host's cost per call does not grow with the
 * pool's size.
 *
 * Order ({@link nextWithRoom}): an idle worker comes before a busy one (a call waits behind
 * another call only when every worker is busy) — until as many workers are busy as the machine
 * has cores (`spreadOver`). From then on a quick call is packed into the busy worker used last
 * while its window is open (its calls are quick, see {@link WorkerSlot.packsQuickCalls}): more
 * workers could not run more calls at once, and every worker woken costs the host a write and a
 * read per call, where a worker already running reads and answers many calls per system call
 * (256 workers on 2 cores, 128 calls in flight: spread one per worker, the host spent 4.5× the
 * CPU per call of 2 workers). Among idle workers, the one that became idle last goes first (most
 * recently used): its process and its socket are warm, the others stay asleep, and a lightly
 * loaded pool of 256 workers costs the host per call what one of 2 does (with least-recently-used
 * order every call woke a different, cold worker: 1.5× the host's CPU per call at c=1 with 64
 * workers, measured). Among busy workers with room, the one holding the fewest calls goes first
 * (the shortest line), and among those the one used last: the calls a worker's answers start
 * anew go back to that worker, in one write, while the answers of its neighbour are still on
 * their way. (Measured, 2 thread-profile workers, 100-byte echo at c=8: giving the call to the
 * busy worker given a call longest ago, as the pool did before, split every such burst over both
 * workers — 0.59 writes per call, and the pool reached 0.87–0.98 of raw calls round-robin over the
 * same workers; fewest-calls-first makes 0.30 writes per call and 1.03–1.10 of round-robin.)
 * A worker is "used" when it is given a call or a finished call gives it room again
 * ({@link touch}).
 */
export class WorkerSet<Call extends Holdable> {
  readonly #workers = new Map<string, WorkerSlot<Call>>();
  readonly #prefix: string;
  readonly #spreadOver: number;
  #counter = 0;
  #ready = 0;
  #held = 0;
  /** Members holding at least one call. */
  #busy = 0;
  /** Idle workers and busy ones with room, each in the order they were used (the last at the tail). */
  readonly #lists: [List<Call>, List<Call>] = [
    { head: undefined, tail: undefined },
    { head: undefined, tail: undefined },
  ];
  /** Busy workers with room by how many calls they hold (index), each list in the order used. */
  readonly #loads: List<Call>[] = [];
  /** No list in {@link #loads} below this index holds a worker. */
  #leastLoad = 0;

  /**
   * @param prefix worker ids are `<prefix>-1`, `<prefix>-2`, ...
   * @param spreadOver how many workers calls are spread over, one each, before quick calls are
   *   packed into busy workers' windows (see {@link nextWithRoom}). Default: the machine's cores.
   */
  constructor(prefix: string, spreadOver = availableParallelism()) {
    this.#prefix = prefix;
    this.#spreadOver = Math.max(1, spreadOver);
  }

  /** Adds a new worker in state `starting`, with the next id. */
  create(
    capacity: number,
    maxRequests: number | undefined,
    sequential = false,
    adaptiveWindow = false,
  ): WorkerSlot<Call> {
    const worker = new WorkerSlot<Call>(
      `${this.#prefix}-${++this.#counter}`,
      capacity,
      maxRequests,
      sequential,
      adaptiveWindow,
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

  /** Workers holding at least one call. */
  get busyCount(): number {
    return this.#busy;
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
    if (worker.inFlight.size > 0) this.#busy--;
    this.#unlink(worker);
  }

  /** Books `call` onto `worker`: it counts against the worker's capacity until {@link release}. */
  book(worker: WorkerSlot<Call>, call: Call): void {
    if (worker.inFlight.size === 0 && this.#workers.get(worker.id) === worker) this.#busy++;
    worker.book(call);
    worker.callsDispatched++;
    this.#held++;
    if (worker.available) this.touch(worker);
    else this.#unlink(worker);
  }

  /**
   * Frees the room `call` took on `worker` (`toolMs`: how long its tool ran, if known). Returns
   * true when the worker has room now.
   */
  release(worker: WorkerSlot<Call>, call: Call, toolMs?: number): boolean {
    if (!worker.inFlight.has(call)) return worker.available;
    worker.finish(call, toolMs);
    this.#held--;
    if (worker.inFlight.size === 0 && this.#workers.get(worker.id) === worker) this.#busy--;
    if (!worker.available) {
      // Its window may have shrunk (its calls are no longer quick): off the lists it may be on.
      this.#unlink(worker);
      return false;
    }
    this.touch(worker);
    return true;
  }

  /**
   * Counts a call cancelled while running on `worker` in (`true`) or out (`false`, it let go):
   * a sequential worker takes no new call while it has one.
   */
  setCancelling(worker: WorkerSlot<Call>, cancelling: boolean): void {
    worker.cancelling += cancelling ? 1 : -1;
    this.#relist(worker);
  }

  /** Stops (or, with `false`, resumes) booking calls on `worker` while it stays ready. */
  stopBooking(worker: WorkerSlot<Call>, stop = true): void {
    worker.atLimit = stop;
    this.#relist(worker);
  }

  /** Marks `worker` as just used: it goes to the back of its list (if it has room). */
  touch(worker: WorkerSlot<Call>): void {
    this.#unlink(worker);
    if (worker.available && this.#workers.get(worker.id) === worker) this.#append(worker);
  }

  /**
   * The worker a new call takes, if any has room: once `spreadOver` workers are busy, the busy
   * worker used last if it packs quick calls; else the idle worker used last; else the busy worker
   * with room holding the fewest calls (of those, the one used last).
   */
  nextWithRoom(): WorkerSlot<Call> | undefined {
    const packing = this.#lists[BUSY].tail;
    if (packing !== undefined && this.#busy >= this.#spreadOver && packing.packsQuickCalls)
      return packing;
    return this.#lists[IDLE].tail ?? this.#leastLoaded();
  }

  /** Workers with room in {@link nextWithRoom} order, packing aside (a copy: safe to book while iterating). */
  withRoom(): WorkerSlot<Call>[] {
    const list: WorkerSlot<Call>[] = [];
    for (let w = this.#lists[IDLE].tail; w !== undefined; w = w.lruPrev) list.push(w);
    const loads = this.#loads;
    for (let load = this.#leastLoad; load < loads.length; load++)
      for (let w = (loads[load] as List<Call>).tail; w !== undefined; w = w.loadPrev) list.push(w);
    return list;
  }

  /** The busy worker with room holding the fewest calls, the one used last among equals. */
  #leastLoaded(): WorkerSlot<Call> | undefined {
    const loads = this.#loads;
    // Past empty lists (a list empties when its last worker fills up or leaves; each is passed
    // once until a worker with fewer calls is listed again): bounded by a worker's capacity.
    for (let load = this.#leastLoad; load < loads.length; load++) {
      const tail = (loads[load] as List<Call>).tail;
      if (tail !== undefined) {
        this.#leastLoad = load;
        return tail;
      }
    }
    this.#leastLoad = loads.length;
    return undefined;
  }

  #relist(worker: WorkerSlot<Call>): void {
    if (worker.available) {
      const listed = worker.lruList;
      const list = worker.inFlight.size === 0 ? IDLE : BUSY;
      if (listed === list) return;
      if (listed !== undefined) this.#unlink(worker);
      if (this.#workers.get(worker.id) === worker) this.#append(worker);
    } else this.#unlink(worker);
  }

  #append(worker: WorkerSlot<Call>): void {
    const load = worker.inFlight.size;
    const index = load === 0 ? IDLE : BUSY;
    const list = this.#lists[index];
    worker.lruPrev = list.tail;
    worker.lruNext = undefined;
    if (list.tail === undefined) list.head = worker;
    else list.tail.lruNext = worker;
    list.tail = worker;
    worker.lruList = index;
    if (index === BUSY) this.#appendLoad(worker, load);
  }

  #unlink(worker: WorkerSlot<Call>): void {
    if (worker.lruList === undefined) return;
    const list = this.#lists[worker.lruList];
    const { lruPrev: prev, lruNext: next } = worker;
    if (prev === undefined) list.head = next;
    else prev.lruNext = next;
    if (next === undefined) list.tail = prev;
    else next.lruPrev = prev;
    worker.lruPrev = undefined;
    worker.lruNext = undefined;
    worker.lruList = undefined;
    if (worker.loadList >= 0) this.#unlinkLoad(worker);
  }

  /** Lists a busy worker with room among those holding `load` calls (at the tail: used last). */
  #appendLoad(worker: WorkerSlot<Call>, load: number): void {
    const loads = this.#loads;
    while (loads.length <= load) loads.push({ head: undefined, tail: undefined });
    const list = loads[load] as List<Call>;
    worker.loadPrev = list.tail;
    worker.loadNext = undefined;
    if (list.tail === undefined) list.head = worker;
    else list.tail.loadNext = worker;
    list.tail = worker;
    worker.loadList = load;
    if (load < this.#leastLoad) this.#leastLoad = load;
  }

  #unlinkLoad(worker: WorkerSlot<Call>): void {
    const list = this.#loads[worker.loadList] as List<Call>;
    const { loadPrev: prev, loadNext: next } = worker;
    if (prev === undefined) list.head = next;
    else prev.loadNext = next;
    if (next === undefined) list.tail = prev;
    else next.loadPrev = prev;
    worker.loadPrev = undefined;
    worker.loadNext = undefined;
    worker.loadList = -1;
  }
}
