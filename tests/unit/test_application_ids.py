"""Generated application ids: unique within a process and across forked worker processes."""

import os

from arbiter.serving.scoring import new_application_id


def test_generated_ids_never_repeat_in_a_process_or_its_forks() -> None:
    ids = {new_application_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(i.startswith("app-") and len(i) <= 128 for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a forked gateway worker
        os.write(write, ",".join(new_application_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = set(os.read(read, 1 << 16).decode().split(","))
    os.close(read)
    assert len(child) == 100 and not child & ids and not child & {new_application_id() for _ in range(100)}
