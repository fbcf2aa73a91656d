"""The `arbiter` command line against the real Postgres, as a user runs it (subprocesses)."""

import json
import shutil
from pathlib import Path

import pytest

from arbiter.store.migrate import head_revision
from tests.helpers import SAMPLE_CSV, assert_one_line_error, copy_bundle, perturb_onnx, run

pytestmark = pytest.mark.integration
def test_synth_train_register_list(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "tx.csv"
    proc = run(cli_env, "data", "synth", "--detector", "card-transactions", "--rows", "6000", "--seed", "9",
               "--out", str(data), "--fraud-rate", "0.03")
    assert proc.returncode == 0, proc.stderr
    assert "wrote 6000 rows" in proc.stdout and len(data.read_text().splitlines()) == 6001

    bundle = tmp_path / "bundle"
    proc = run(cli_env, "train", "--detector", "card-transactions", "--recipe", "hgb", "--data", str(data),
               "--out", str(bundle), "--param", "max_iter=30", "--min-auc", "0.6")
    assert proc.returncode == 0, proc.stderr
    assert "validation ROC-AUC" in proc.stdout and (bundle / "manifest.json").is_file()

    proc = run(cli_env, "register", str(bundle))
    assert proc.returncode == 0, proc.stderr
    assert "registered card-transactions-hgb.v1" in proc.stdout and "max |diff|" in proc.stdout

    proc = run(cli_env, "models", "list", "--detector", "card-transactions")
    assert proc.returncode == 0, proc.stderr
    assert "card-transactions-hgb.v1" in proc.stdout and "registered" in proc.stdout


def test_min_auc_gate_exits_non_zero_and_leaves_no_bundle(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "apps.csv"
    assert run(cli_env, "data", "synth", "--detector", "card-applications", "--rows", "4000", "--seed", "2",
               "--out", str(data), "--fraud-rate", "0.05").returncode == 0
    out = tmp_path / "gated"
    proc = run(cli_env, "train", "--detector", "card-applications", "--recipe", "logreg", "--data", str(data),
               "--out", str(out), "--min-auc", "0.9999")
    assert_one_line_error(proc, "below --min-auc 0.9999", "no bundle written")
    assert not out.exists()


def test_register_refusals_are_one_line(cli_env: dict[str, str], rf_bundle: Path, tmp_path: Path) -> None:
    perturbed = perturb_onnx_copy(rf_bundle, tmp_path / "p")
    assert_one_line_error(run(cli_env, "register", str(perturbed)), "certification failed")
    assert_one_line_error(run(cli_env, "register", str(tmp_path)), "not a bundle")
    tampered = copy_bundle(rf_bundle, tmp_path / "t")
    (tampered / "model.onnx").write_bytes(b"\x00" + (tampered / "model.onnx").read_bytes()[1:])
    assert_one_line_error(run(cli_env, "register", str(tampered)), "does not match its sha256")
    proc = run(cli_env, "models", "list")
    assert proc.returncode == 0 and "no models registered" in proc.stdout


def perturb_onnx_copy(src: Path, dst: Path) -> Path:
    copy_bundle(src, dst)
    perturb_onnx(dst)
    return dst


@pytest.mark.parametrize("args,needle", [
    (["train", "--detector", "card-transactions", "--recipe", "rf", "--data", "/nonexistent.csv", "--out", "x"],
     "data file not found"),
    (["train", "--detector", "nope", "--recipe", "rf", "--data", "d", "--out", "x"], "Invalid value for '--detector'"),
    (["train", "--detector", "card-transactions", "--recipe", "rf", "--data", "d", "--out", "x", "--param", "trees=1"],
     "has no parameter(s) trees"),
    (["data", "synth", "--detector", "card-transactions", "--rows", "-5", "--out", "x.csv"],
     "Invalid value for '--rows'"),
    (["register", "/definitely/not/here"], "not a bundle directory"),
])
def test_bad_input_gets_one_clear_line(cli_env: dict[str, str], args: list[str], needle: str) -> None:
    proc = run(cli_env, *args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert needle in proc.stderr


def test_unreachable_database_is_one_line(cli_env: dict[str, str]) -> None:
    env = cli_env | {"ARBITER_DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:1/none"}
    assert_one_line_error(run(env, "models", "list"), "database unreachable")


def test_every_command_has_help(cli_env: dict[str, str]) -> None:
    for args in (["--help"], ["db", "upgrade", "--help"], ["data", "synth", "--help"], ["train", "--help"],
                 ["register", "--help"], ["models", "list", "--help"], ["demo", "--help"]):
        proc = run(cli_env, *args)
        assert proc.returncode == 0 and "Usage:" in proc.stdout, args


@pytest.mark.skipif(not SAMPLE_CSV.is_file(), reason="the real Kaggle sample is not on this machine")
def test_train_and_register_on_the_real_sample(cli_env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "sample.csv"
    shutil.copy(SAMPLE_CSV, data)
    bundle = tmp_path / "real-rf"
    proc = run(cli_env, "train", "--detector", "card-transactions", "--recipe", "rf", "--data", str(data),
               "--out", str(bundle), "--min-auc", "0.9")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["data_quality"]["rows"] == 1000
    assert manifest["data_quality"]["duplicate_rows"] == 10
    assert manifest["data_quality"]["class_balance"]["positives"] == 300
    assert manifest["metrics"]["validation"]["roc_auc"] > 0.9
    proc = run(cli_env, "register", str(bundle))
    assert proc.returncode == 0, proc.stderr
    assert "registered card-transactions-rf.v1" in proc.stdout


def test_db_upgrade_command(cli_env: dict[str, str]) -> None:
    proc = run(cli_env, "db", "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert f"database at revision {head_revision()}" in proc.stdout


def test_shadow_promote_rollback_commands(cli_env: dict[str, str], rf_bundle: Path, tx_logreg_bundle: Path) -> None:
    assert run(cli_env, "register", str(rf_bundle)).returncode == 0
    assert run(cli_env, "register", str(tx_logreg_bundle)).returncode == 0
    proc = run(cli_env, "shadow", "card-transactions-logreg.v1")
    assert proc.returncode == 0 and "card-transactions-logreg.v1 is now shadow" in proc.stdout
    proc = run(cli_env, "shadow", "card-transactions-logreg.v1", "--stop")
    assert proc.returncode == 0 and "is now registered" in proc.stdout

    refused = run(cli_env, "promote", "card-transactions-rf.v1", "--reason", "first")
    assert_one_line_error(refused, "promotion refused (recorded)", "shadow_volume")
    proc = run(cli_env, "promote", "card-transactions-rf.v1", "--reason", "bootstrap", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "is now the champion of card-transactions (forced past: shadow_volume" in proc.stdout
    assert run(cli_env, "promote", "card-transactions-logreg.v1", "--reason", "try", "--force").returncode == 0
    assert_one_line_error(run(cli_env, "promote", "card-transactions-logreg.v1", "--reason", "again", "--force"),
                          "registered (already the champion)")

    proc = run(cli_env, "rollback", "--detector", "card-transactions", "--reason", "logreg misbehaves")
    assert proc.returncode == 0, proc.stderr
    assert "rolled back to card-transactions-rf.v1 (from card-transactions-logreg.v1)" in proc.stdout
    assert_one_line_error(run(cli_env, "rollback", "--detector", "card-transactions", "--reason", "more"),
                          "no earlier champion")
    assert_one_line_error(run(cli_env, "promote", "nope.v1", "--reason", "x"), "unknown model 'nope.v1'")
    listing = run(cli_env, "models", "list").stdout
    assert "card-transactions-rf.v1" in listing and "champion" in listing and "retired" in listing
