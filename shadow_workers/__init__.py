"""Message consumers: challenger scoring and the recorder (batching, ack after commit).

May import `models` and arbiter's store, broker and strategies; never its gateway.
"""
