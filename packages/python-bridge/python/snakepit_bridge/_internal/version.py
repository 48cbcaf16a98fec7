"""The bridge version, reported by `--check` and `snakepit doctor`."""

__version__ = "0.1.0"

# The host <-> worker protocol version (gRPC contract plus the control-fd handshake); the host's
# is PROTOCOL_VERSION in @snakepit/python-bridge's protocol-version.ts. Bump both together on
# any incompatible change.
PROTOCOL_VERSION = 1
