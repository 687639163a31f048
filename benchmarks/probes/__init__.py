"""Measurements that need a fresh process (peak memory, process-wide allocator settings), run as
`python -m benchmarks.probes.NAME ...`; each prints one JSON line."""
