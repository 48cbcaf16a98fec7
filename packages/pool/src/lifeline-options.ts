import { expectBoolean, expectInteger } from "@snakepit/errors/internal";
import { optionalObject } from "./optional-object.js";

/** The layers by which a worker notices its host is gone; each works on its own. */
export interface LifelineOptions {
  /** Exit on EOF of the inherited control socket (fd 3). Default true. */
  readonly pipe?: boolean;
  /** Linux `PR_SET_PDEATHSIG`. Default true. */
  readonly parentDeathSignal?: boolean;
  /** The worker's dependent heartbeat to the host service; `false` turns it off. Default: 2000 ms / 2000 ms / 3 misses. */
  readonly hostHeartbeat?:
    | { readonly intervalMs?: number; readonly timeoutMs?: number; readonly maxMissed?: number }
    | false;
  /** A separate watchdog process per worker that kills the worker's group when the host dies. Default false. */
  readonly watchdog?: boolean;
}

/** `lifelines` with every default filled in; `INVALID_OPTIONS` names a bad key or value. */
export function resolveLifelines(value: unknown): Required<LifelineOptions> {
  const v =
    optionalObject("lifelines", value, [
      "pipe",
      "parentDeathSignal",
      "hostHeartbeat",
      "watchdog",
    ]) ?? {};
  let hostHeartbeat: Required<LifelineOptions>["hostHeartbeat"] = {};
  if (v.hostHeartbeat === false) hostHeartbeat = false;
  else {
    const hb =
      optionalObject("lifelines.hostHeartbeat", v.hostHeartbeat, [
        "intervalMs",
        "timeoutMs",
        "maxMissed",
      ]) ?? {};
    const n = (key: string) =>
      hb[key] === undefined
        ? {}
        : { [key]: expectInteger(`lifelines.hostHeartbeat.${key}`, hb[key], 1) };
    hostHeartbeat = { ...n("intervalMs"), ...n("timeoutMs"), ...n("maxMissed") };
  }
  const flag = (key: string, fallback: boolean) =>
    v[key] === undefined ? fallback : expectBoolean(`lifelines.${key}`, v[key]);
  return {
    pipe: flag("pipe", true),
    parentDeathSignal: flag("parentDeathSignal", true),
    hostHeartbeat,
    watchdog: flag("watchdog", false),
  };
}
