"""The unit of work of every engine, and what records it: the job store, its lease, the reuse
key, rate limits and the run summary."""
