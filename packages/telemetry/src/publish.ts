import { type Channel, channel } from "node:diagnostics_channel";
import { type EventName, type EventPayloads, eventNames } from "./event-catalogue.js";

const channels = new Map<EventName, Channel>(eventNames.map((name) => [name, channel(name)]));

/**
 * Publishes `payload` on `name`'s channel. Without a subscriber this is one property read;
 * pass a function to build the payload only when someone listens.
 */
export function publish<N extends EventName>(
  name: N,
  payload: EventPayloads[N] | (() => EventPayloads[N]),
): void {
  const ch = channels.get(name) as Channel;
  if (!ch.hasSubscribers) return;
  ch.publish(typeof payload === "function" ? (payload as () => EventPayloads[N])() : payload);
}

/** True when someone listens on `name` (to skip work that only feeds the event). */
export function hasSubscribers(name: EventName): boolean {
  return (channels.get(name) as Channel).hasSubscribers;
}

/** Subscribes a typed listener to `name`; returns the unsubscribe function. */
export function subscribe<N extends EventName>(
  name: N,
  listener: (payload: EventPayloads[N]) => void,
): () => void {
  const ch = channels.get(name) as Channel;
  const fn = (message: unknown) => listener(message as EventPayloads[N]);
  ch.subscribe(fn);
  return () => ch.unsubscribe(fn);
}
