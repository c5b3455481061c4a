"""Names vulture (at 80% confidence) takes for dead code, each used in a way it cannot see.
Read by tests/architecture/test_layers.py::test_no_dead_code; never imported."""
# ruff: noqa

# adapters/schemas.py `_load(path, mtime_ns)`: an argument of an lru_cache'd function that only
# keys the cache, so a schema file changed on disk is read again.
mtime_ns
