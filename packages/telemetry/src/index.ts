// For applications

export type { EventName, EventPayloads } from "./event-catalogue.js";
export { eventNames } from "./event-catalogue.js";
// For other @snakepit packages
export { hasSubscribers, publish, subscribe } from "./publish.js";
