"""`make bench`: the API's throughput, latency and memory, and the worker's throughput."""
