/**
 * The version of the host ↔ worker protocol (the gRPC contract plus the control-socket
 * handshake) this package speaks. The worker's `snakepit_bridge` reports its own in the ready
 * line and checks the host's (`SNAKEPIT_PROTOCOL`); a mismatch fails the start with
 * `PROTOCOL_VERSION_MISMATCH`. Bump it with `PROTOCOL_VERSION` in `snakepit_bridge` on any
 * incompatible change.
 */
export const PROTOCOL_VERSION = 1;
