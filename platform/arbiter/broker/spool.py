"""The durable local outbox: messages the broker could not take yet, on disk until it can.

Messages are written in segments (one file per batch: written to a temporary name, fsynced,
then renamed, so a segment is either whole or absent). Replay claims a segment by renaming it
(atomic, so two gateway processes sharing the directory never both take it), publishes it,
and deletes it once the broker has confirmed every message. A crash during replay leaves the
claimed file; it is replayed again later (at least once; consumers store idempotently).
Bodies are the encoded messages, so with ARBITER_MESSAGE_KEY they are sealed on disk too.
"""

from __future__ import annotations

import contextlib
import os
import struct
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from arbiter.broker.transport import OutboundMessage

_HEADER = struct.Struct(">HI")  # routing key length, body length
SEGMENT = ".seg"
CLAIMED = ".claimed-"


class SpoolError(Exception):
    """The spool cannot be written (disk full, permissions)."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool:
    """Segments of spooled messages under `directory`; `depth` counts the messages waiting."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = 0
        self._release_orphans()

    def _release_orphans(self) -> None:
        """Segments claimed by a process that died mid-replay become replayable again."""
        for path in self.directory.glob(f"*{CLAIMED}*"):
            pid = path.name.rsplit(CLAIMED, 1)[1]
            if pid.isdigit() and not _pid_alive(int(pid)):
                with contextlib.suppress(FileNotFoundError):
                    path.rename(path.with_name(path.name.split(CLAIMED, 1)[0]))

    def append(self, messages: Sequence[OutboundMessage]) -> None:
        if not messages:
            return
        chunks = []
        for m in messages:
            key = m.routing_key.encode()
            chunks += [_HEADER.pack(len(key), len(m.body)), key, m.body]
        with self._lock:
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}-{len(messages)}{SEGMENT}"
        final = self.directory / name
        temporary = final.with_suffix(".tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(b"".join(chunks))
                handle.flush()
                os.fsync(handle.fileno())
            temporary.rename(final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise SpoolError(f"cannot write the spool at {self.directory}: {exc}") from exc

    def depth(self) -> int:
        """Messages waiting on disk (from the segment names: no file is read)."""
        total = 0
        for path in self.directory.glob(f"*{SEGMENT}*"):
            count = path.name.split(SEGMENT, 1)[0].rsplit("-", 1)[-1]
            total += int(count) if count.isdigit() else 0
        return total

    def claim_oldest(self) -> tuple[Path, list[OutboundMessage]] | None:
        """Take the oldest unclaimed segment for replay: (claimed path, its messages), or None."""
        for path in sorted(self.directory.glob(f"*{SEGMENT}")):
            claimed = path.with_name(f"{path.name}{CLAIMED}{os.getpid()}")
            try:
                path.rename(claimed)
            except FileNotFoundError:
                continue  # another process took it
            return claimed, _read(claimed.read_bytes())
        return None

    def done(self, claimed: Path) -> None:
        claimed.unlink(missing_ok=True)

    def give_back(self, claimed: Path, remaining: Sequence[OutboundMessage]) -> None:
        """Replay stopped part-way: keep what was not confirmed, drop the claim."""
        self.append(remaining)
        claimed.unlink(missing_ok=True)


def _read(data: bytes) -> list[OutboundMessage]:
    messages, offset = [], 0
    while offset < len(data):
        key_len, body_len = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        key = data[offset:offset + key_len].decode()
        offset += key_len
        messages.append(OutboundMessage(key, data[offset:offset + body_len]))
        offset += body_len
    return messages
