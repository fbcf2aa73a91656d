"""The consumers of the shadow path: challenger scoring and the recorder.

Each worker consumes queues of `arbiter.applications`, micro-batches the deliveries, scores a
batch as one vector call, writes it in one transaction with idempotent inserts and acknowledges
only after the commit. Imports `models` and arbiter's store, broker and strategies; never the
gateway.
"""
