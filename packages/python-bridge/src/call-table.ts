/** An entry of a {@link CallTable}: its call id on the connection. */
export interface CallEntry {
  readonly id: number;
}

const FIRST_SLOTS = 64;
const MAX_ID = 0xffffffff;

/**
 * The calls in flight on one connection, by call id: an array indexed by the id's low bits, not
 * a `Map`. Ids are handed out by {@link nextId} in order (wrapping at 2^32, skipping 0), skipping
 * any whose slot is taken, and the table doubles whenever it is half full, so lookups are one
 * array read and ids never collide.
 *
 * Why not a `Map`: the connection's map lives as long as the worker, so V8 moves its table to the
 * old generation while every call passing through it is young. Adding and deleting makes V8
 * rebuild the table from time to time, and the table it leaves behind, dead but in the old
 * generation until the next full GC, still points at the calls it held: each young-generation GC
 * keeps those calls alive and promotes them (see the pool's held-calls.ts for the measurements).
 * An array that never moves, whose slots are cleared, leaves no dead copy behind.
 */
export class CallTable<T extends CallEntry> {
  #slots: (T | undefined)[] = new Array<T | undefined>(FIRST_SLOTS).fill(undefined);
  #mask = FIRST_SLOTS - 1;
  #size = 0;
  #lastId: number;

  /** @param lastId the id handed out before the first (tests start near the wrap-around). */
  constructor(lastId = 0) {
    this.#lastId = lastId;
  }

  get size(): number {
    return this.#size;
  }

  /** A call id free on this connection (non-zero, at most 2^32 - 1), for the next {@link add}. */
  nextId(): number {
    if ((this.#size + 1) * 2 > this.#slots.length) this.#grow();
    let id = this.#lastId;
    do id = id >= MAX_ID ? 1 : id + 1;
    while (this.#slots[id & this.#mask] !== undefined);
    this.#lastId = id;
    return id;
  }

  /** Adds a call whose id came from {@link nextId} (and was not added since). */
  add(call: T): void {
    const at = call.id & this.#mask;
    if (this.#slots[at] !== undefined) throw new Error(`call id ${call.id} is taken`);
    this.#slots[at] = call;
    this.#size++;
  }

  get(id: number): T | undefined {
    const call = this.#slots[id & this.#mask];
    return call !== undefined && call.id === id ? call : undefined;
  }

  /** True while `call` is in the table. */
  includes(call: T): boolean {
    return this.#slots[call.id & this.#mask] === call;
  }

  /** Removes `call`; false when it was not here. */
  delete(call: T): boolean {
    const at = call.id & this.#mask;
    if (this.#slots[at] !== call) return false;
    this.#slots[at] = undefined;
    this.#size--;
    return true;
  }

  /** The calls in the table now (a copy: the caller may delete while it walks it). */
  values(): T[] {
    const out: T[] = [];
    if (this.#size === 0) return out;
    for (const call of this.#slots) if (call !== undefined) out.push(call);
    return out;
  }

  #grow(): void {
    // Ids distinct in their low k bits stay distinct in their low k + 1: no two calls collide.
    const slots = new Array<T | undefined>(this.#slots.length * 2).fill(undefined);
    const mask = slots.length - 1;
    for (const call of this.#slots) if (call !== undefined) slots[call.id & mask] = call;
    this.#slots = slots;
    this.#mask = mask;
  }
}
