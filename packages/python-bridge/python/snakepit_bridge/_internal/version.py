"""The bridge version, reported by `--check` and `snakepit doctor`."""

__version__ = "0.1.0"
