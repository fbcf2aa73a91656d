"""The H2O cluster the H2O recipes train on: a local one started on demand, or an attached one.

H2O's Python client holds one global connection, so this module does too. A local cluster is
a JVM bound to 127.0.0.1 with a bounded heap (`ARBITER_H2O_MAX_MEM`, default 1g), started the
first time a recipe needs it and shut down when the process exits. `use_cluster(url)` (the
CLI's `--h2o-url`, or `ARBITER_H2O_URL`) attaches to an existing cluster instead, which is how
training reaches data beyond one machine; an attached cluster is never shut down by us.

Telemetry is off whatever the release: the pinned 3.46.0.11 sends none, and the opt-outs later
releases read (`H2O_DISABLE_TELEMETRY`, `DO_NOT_TRACK`, `sys.ai.h2o.telemetry.disabled`) are
set for the client and for every JVM started here.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import EngineError, first_line

TELEMETRY_OFF_ENV = {"H2O_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
TELEMETRY_OFF_JVM = ["-Dsys.ai.h2o.telemetry.disabled=true"]
DEFAULT_MAX_MEM = "1g"
LABEL_COLUMN = "label"
_SIZE = re.compile(r"^\s*(\d+)\s*([kmg]?)b?\s*$", re.IGNORECASE)


@dataclass
class Cluster:
    """A connected H2O cluster; `server` is set when this process started it (and owns it)."""

    url: str
    version: str
    server: Any = None
    log_dir: Path | None = None  # the local JVM's logs, removed when it stops cleanly

    @property
    def owned(self) -> bool:
        return self.server is not None


_configured_url: str | None = None
_current: Cluster | None = None


def _telemetry_off() -> None:
    for key, value in TELEMETRY_OFF_ENV.items():
        os.environ[key] = value


def parse_size(text: str) -> int:
    """'1g', '512m', '2048m' -> bytes (the JVM's -Xmx spelling)."""
    match = _SIZE.match(text or "")
    if not match:
        raise EngineError(f"ARBITER_H2O_MAX_MEM {text!r} is not a size such as 1g or 512m")
    number, unit = int(match.group(1)), match.group(2).lower()
    return number << {"": 0, "k": 10, "m": 20, "g": 30}[unit]


def use_cluster(url: str | None) -> None:
    """Train on the H2O cluster at `url` from now on; None: a local one started on demand."""
    global _configured_url
    url = url.rstrip("/") if url else None
    if url != _configured_url:
        shutdown()
    _configured_url = url


def start_local(max_mem: str | None = None, nthreads: int = -1) -> Cluster:
    """Start an H2O JVM on 127.0.0.1 (a free port from 54321) with a bounded heap, and connect."""
    _telemetry_off()
    from h2o.backend import H2OLocalServer

    heap = parse_size(max_mem or os.environ.get("ARBITER_H2O_MAX_MEM") or DEFAULT_MAX_MEM)
    log_dir = tempfile.mkdtemp(prefix="arbiter-h2o-")
    try:
        server = H2OLocalServer.start(nthreads=nthreads, max_mem_size=heap, min_mem_size=min(heap, 256 << 20),
                                      port="54321+", bind_to_localhost=True, verbose=False, log_dir=log_dir,
                                      jvm_custom_args=TELEMETRY_OFF_JVM)
    except Exception as exc:  # h2o raises bare H2OStartupError/H2OServerError with multi-line text
        raise EngineError(f"could not start a local H2O (needs Java 8-17 on PATH): {first_line(exc)} "
                          f"(H2O's logs: {log_dir})") from None
    cluster = _connect(server=server)
    cluster.server, cluster.log_dir = server, Path(log_dir)
    return cluster


def attach(url: str) -> Cluster:
    """Connect to an H2O cluster that is already running at `url`."""
    _telemetry_off()
    return _connect(url=url)


def _connect(**where: Any) -> Cluster:
    import h2o

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the client prints banners and age warnings
            conn = h2o.connect(verbose=False, **where)
    except Exception as exc:
        target = where.get("url") or "the local H2O"
        raise EngineError(f"cannot reach the H2O cluster at {target}: {first_line(exc)}") from None
    h2o.no_progress()
    return Cluster(url=conn.base_url, version=h2o.cluster().version)


def cluster() -> Cluster:
    """The cluster to train on: the attached one, or a local one (started now if need be)."""
    global _current
    if _current is None:
        _current = attach(_configured_url) if _configured_url else start_local()
        # registered after H2O's own exit hooks so that it runs before them (they print when the
        # JVM is gone); once, however many clusters this process has used
        atexit.unregister(shutdown)
        atexit.register(shutdown)
    return _current


def shutdown() -> None:
    """Disconnect; stop the local JVM if this process started it. Safe to call twice."""
    global _current
    if _current is None:
        return
    import h2o

    current, _current = _current, None
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        h2o.connection().close()
    if current.owned:
        current.server.shutdown()
        if current.log_dir is not None:
            shutil.rmtree(current.log_dir, ignore_errors=True)


@contextlib.contextmanager
def uploaded(X: np.ndarray, names: list[str], y: np.ndarray | None = None) -> Iterator[Any]:
    """`upload`, removed from the cluster when the block ends."""
    import h2o

    frame = upload(X, names, y)
    try:
        yield frame
    finally:
        h2o.remove(frame)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Without the H2O client's warnings (such as "install polars for a multi-threaded download")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def upload(X: np.ndarray, names: list[str], y: np.ndarray | None = None) -> Any:
    """A float32 feature matrix (and 0/1 labels) as an H2OFrame, values exactly as the runtime sees them.

    The matrix goes through a CSV file, as with every H2O upload; writing the float32 values
    as float64 with 17 significant digits makes H2O parse the very numbers ONNX compares, so
    a row on a split threshold goes the same way in both.
    """
    import h2o

    cluster()
    columns = list(names) + ([LABEL_COLUMN] if y is not None else [])
    with tempfile.TemporaryDirectory(prefix="arbiter-h2o-") as tmp:
        path = Path(tmp) / "frame.csv"
        values = np.asarray(X, dtype=np.float32).astype(np.float64)
        with path.open("w") as fh:
            fh.write(",".join(_quote(c) for c in columns) + "\n")
            table = values if y is None else np.column_stack([values, np.asarray(y, dtype=np.float64)])
            np.savetxt(fh, table, fmt="%.17g", delimiter=",")
        types = ["real"] * len(names) + (["enum"] if y is not None else [])
        return h2o.upload_file(str(path), header=1, col_names=columns, col_types=types)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fraud_probability(model: Any, X: np.ndarray, names: list[str]) -> np.ndarray:
    """H2O's own predicted probability of the fraud class (label 1) for each row of `X`."""
    import h2o

    with uploaded(X, names) as frame:
        predicted = model.predict(frame)
    try:
        with quiet():
            column = predicted["p1"].as_data_frame(use_pandas=True)
        return column["p1"].to_numpy(dtype=np.float64)
    finally:
        h2o.remove(predicted)
