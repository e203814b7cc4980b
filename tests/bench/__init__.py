"""Benchmarks (``make bench``): pyovs against the real Open vSwitch.

``ovsdb_bench`` holds the OVSDB workloads and the small non-blocking JSON-RPC
client that drives them; ``run`` is the command line that runs every workload
against both servers and prints one table.  See ``README.md`` here.
"""
