import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where run records live unless told otherwise: `$XDG_STATE_HOME/snakepit`, else
 * `~/.local/state/snakepit` (on Windows `%LOCALAPPDATA%\snakepit`). Per user, so several hosts
 * of one user share it and can clean up after each other.
 */
export function defaultDataDir(): string {
  const xdg = process.env.XDG_STATE_HOME;
  if (xdg !== undefined && xdg !== "") return join(xdg, "snakepit");
  if (process.platform === "win32" && process.env.LOCALAPPDATA) {
    return join(process.env.LOCALAPPDATA, "snakepit");
  }
  return join(homedir(), ".local", "state", "snakepit");
}
