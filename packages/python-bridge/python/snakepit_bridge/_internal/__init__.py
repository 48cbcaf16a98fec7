"""Private internals of snakepit_bridge: the worker process, its RPC layer and lifelines.

Nothing here is public API; import from `snakepit_bridge` instead. Modules may change or move in any
release.
"""
