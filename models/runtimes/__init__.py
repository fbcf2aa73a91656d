"""Runtimes by name: `onnx` (default) and `sklearn` (fallback)."""

from __future__ import annotations

from pathlib import Path

from models.runtimes.base import OpenedBundle, Runtime, open_bundle
from models.runtimes.onnx_runtime import OnnxRuntime
from models.runtimes.sklearn_runtime import SklearnRuntime

RUNTIMES: dict[str, type[Runtime]] = {"onnx": OnnxRuntime, "sklearn": SklearnRuntime}


def load_runtime(bundle: str | Path | OpenedBundle, kind: str | None = None, identity_key: bytes | None = None
                 ) -> Runtime:
    """Open (and verify) a bundle and load it into the runtime `kind` (manifest default), under
    `identity_key` (`open_bundle`)."""
    opened = bundle if isinstance(bundle, OpenedBundle) else open_bundle(bundle, identity_key)
    kind = kind or opened.manifest["serving"]["runtime"]
    try:
        runtime_cls = RUNTIMES[kind]
    except KeyError:
        raise ValueError(f"unknown runtime {kind!r}; known: {', '.join(RUNTIMES)}") from None
    return runtime_cls(opened)


__all__ = ["RUNTIMES", "OpenedBundle", "Runtime", "load_runtime", "open_bundle"]
