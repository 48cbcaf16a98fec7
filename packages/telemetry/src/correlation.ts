import { AsyncLocalStorage } from "node:async_hooks";
import { invalidOption } from "@snakepit/errors/internal";

const storage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `id` as the current correlation id. Everything `fn` starts (awaits, timers,
 * nested pool calls) sees it through {@link currentCorrelationId}; an inner `withCorrelationId`
 * overrides it for its own scope only. Returns what `fn` returns.
 */
export function withCorrelationId<T>(id: string, fn: () => T): T {
  if (typeof id !== "string" || id === "") throw invalidOption("id", "a non-empty string", id);
  return storage.run(id, fn);
}

/** The correlation id of the innermost {@link withCorrelationId} scope, or `undefined` outside one. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}
