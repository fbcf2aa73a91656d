"""Serving through onnxruntime: the default, about a few tens of microseconds a row."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from models.bundle import ONNX_MODEL
from models.runtimes.base import OpenedBundle, Runtime


class OnnxRuntime(Runtime):
    kind = "onnx"

    def __init__(self, bundle: OpenedBundle, threads: int = 1) -> None:
        super().__init__(bundle)
        options = ort.SessionOptions()
        # one thread per call: the gateway runs one process per core, parallelism comes from there
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(bundle.path / ONNX_MODEL), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = bundle.manifest["serving"]["onnx_output"]

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: X})[0]
