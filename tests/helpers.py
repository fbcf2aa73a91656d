"""Shared test helpers (no fakes of real services here)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from models.bundle import MANIFEST, ONNX_MODEL, dumps, file_sha256
from models.explain import EXPLAIN_MODEL

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CSV = REPO.parent / "shared" / "data" / "creditcard-sample.csv"
ARBITER = str(Path(sys.executable).with_name("arbiter"))


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`arbiter ARGS` as a user runs it."""
    return subprocess.run([ARBITER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """A failed command: non-zero exit, one line on stderr (progress bars aside) naming `needles`."""
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.strip() and "%|" not in line]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def reseal(bundle: Path) -> None:
    """Recompute the manifest's file hashes, as a careless (or malicious) publisher would."""
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest["files"] = {p.name: file_sha256(p) for p in sorted(bundle.iterdir()) if p.name != MANIFEST}
    (bundle / MANIFEST).write_text(dumps(manifest))


def edit_manifest(bundle: Path, **changes: object) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text())
    manifest.update(changes)
    (bundle / MANIFEST).write_text(dumps(manifest))


def perturb_onnx(bundle: Path, delta: float = 0.05) -> None:
    """Shift every float weight of the ONNX model's ML operator: a model that no longer
    reproduces the training library's scores. The manifest is resealed so only
    certification can catch it."""
    model = onnx.load(bundle / ONNX_MODEL)
    changed = False
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.FLOATS and attr.name in (
                "nodes_values", "coefficients", "target_weights", "class_weights", "intercepts"
            ):
                values = [v + delta for v in attr.floats]
                del attr.floats[:]
                attr.floats.extend(values)
                changed = True
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            arr = onnx.numpy_helper.to_array(init) + delta
            init.CopyFrom(onnx.numpy_helper.from_array(arr.astype("float32"), init.name))
            changed = True
    assert changed, "nothing to perturb in this ONNX graph"
    onnx.save(model, bundle / ONNX_MODEL)
    reseal(bundle)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02) -> bool:  # type: ignore[no-untyped-def]
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def load_synthetic_rules(platform: Any) -> None:
    """The synthetic deny lists as rules version 2 of card-applications: a test's explicit choice
    (a fresh database has empty rule sets). Applied at once: the tests' platform is a lab."""
    from arbiter.governance.configuration import synthetic_rules
    from arbiter.governance.proposals import submit_rules

    submitted = submit_rules(platform, "card-applications", synthetic_rules("card-applications"), actor="tests")
    assert not submitted.pending and submitted.record["version"] == 2


def perturb_contribution_graph(bundle: Path) -> None:
    """Every number of the contribution graph moved by 1%: still a valid graph, not the model's.
    A model computing its own contributions has no graph: its recorded ones are moved instead."""
    if not (bundle / EXPLAIN_MODEL).exists():
        examples = json.loads((bundle / "certification.json").read_text())
        examples["expected_contributions"] = (np.array(examples["expected_contributions"]) * 1.01).tolist()
        (bundle / "certification.json").write_text(json.dumps(examples))
        reseal(bundle)
        return
    model = onnx.load(bundle / EXPLAIN_MODEL)
    for tensor in model.graph.initializer:
        if tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE) and tensor.name == "weights":
            tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor) * 1.01, tensor.name))
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.name == "target_weights_as_tensor":
                attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t) * 1.01, attr.t.name))
    onnx.save(model, bundle / EXPLAIN_MODEL)
    reseal(bundle)
