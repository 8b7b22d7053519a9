"""Tool services: each a real component with its own latency and failure profile (lab 02).

sandbox   model-written Python in a fresh, limited subprocess
api       a local HTTP price and payments service (with a ledger and fault injection)
sharded   the knowledge-base index sharded across Dask workers
"""

__all__: list[str] = []
