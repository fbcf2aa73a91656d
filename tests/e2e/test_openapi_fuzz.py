"""An outside fuzzer against a live gateway (`arbiter serve`, real Postgres, real models): schemathesis
reads /openapi.json and generates requests for each detector's score and batch operations.

Bodies generated from the schema (positive mode) must all be accepted (`positive_data_acceptance`:
the schema states every rule validation applies) with no 5xx and answers that conform to the
documented responses. Bodies generated against it (negative mode) must bring no 5xx and only
documented answers; they are not required to be refused, because the schema is deliberately a
little stricter than the gateway in one place (application ids: printable ASCII documented,
any printable string taken)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from arbiter.bootstrap import Platform
from arbiter.governance.promotion import promote
from arbiter.governance.registry import register_bundle
from tests.e2e.gateway_process import GatewayProcess
from tests.helpers import ARBITER
from tests.integration.conftest import PII_KEY

pytestmark = pytest.mark.integration
SCHEMATHESIS = str(Path(ARBITER).with_name("schemathesis"))
ANSWERS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def _fuzz(url: str, workdir: Path, mode: str, checks: str) -> subprocess.CompletedProcess:
    return subprocess.run([SCHEMATHESIS, "run", f"{url}/openapi.json", "--include-path-regex", "^/v1/detectors/",
                           "--mode", mode, "--checks", checks, "--max-examples", "40", "--workers", "1",
                           "--seed", "20261207", "--generation-deterministic", "--no-color"],
                          cwd=workdir, capture_output=True, text=True, timeout=900)


def test_a_fuzzer_gets_schema_valid_bodies_through_and_never_a_server_error(
        platform: Platform, rf_bundle: Path, app_logreg_bundle: Path, tmp_path: Path) -> None:
    assert shutil.which(SCHEMATHESIS), SCHEMATHESIS
    for bundle in (rf_bundle, app_logreg_bundle):
        promote(platform, register_bundle(platform, bundle).model.id, reason="fuzz", actor="test", force=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")} | {
        "ARBITER_DATABASE_URL": platform.settings.database_url,
        "ARBITER_REGISTRY_DIR": str(platform.settings.registry_dir), "ARBITER_PII_KEY": PII_KEY,
        "ARBITER_SPOOL_DIR": str(tmp_path / "spool"), "ARBITER_GOVERNANCE": "off"}
    with GatewayProcess(env) as gateway:
        positive = _fuzz(gateway.url, tmp_path, "positive", f"{ANSWERS},positive_data_acceptance,unsupported_method")
        assert positive.returncode == 0, positive.stdout[-6000:]
        negative = _fuzz(gateway.url, tmp_path, "negative", ANSWERS)
        assert negative.returncode == 0, negative.stdout[-6000:]
        metrics = httpx.get(f"{gateway.url}/metrics").text
    scored = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                 if line.startswith("arbiter_requests_total{"))
    assert scored > 100  # the positive run's bodies were scored, not refused
    assert "No issues found" in positive.stdout
