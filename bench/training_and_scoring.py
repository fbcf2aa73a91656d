"""Benchmark: synthesis, training and scoring figures for the foundation.

    python bench/training_and_scoring.py [--rows 284807] [--app-rows 284807] [--out bench/reports]

Measures, in one run on this machine:
- synthesis time for 1,000,000 rows of each detector (the goal: under a minute);
- training time and validation ROC-AUC / PR-AUC of every recipe on both detectors;
- scoring latency with the `onnx` and `sklearn` runtimes: one row at a time and 1,000 rows
  in one call, both through the full path (feature transforms + model) and model-only;
- for the H2O recipes, the local H2O's start-up time (training times exclude it).

Writes `training_and_scoring.md` and `.json` to the output folder. Never asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from models.certification import certify
from models.dataio import prepare_frame
from models.detectors import get_detector
from models.features import columns_from_frame
from models.recipes import H2O_RECIPES, RECIPE_NAMES, get_recipe, h2o_engine
from models.runtimes import load_runtime
from models.synth import synthesize
from models.training import train


def timed(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def scoring_figures(bundle: Path, frame, detector) -> dict:  # type: ignore[no-untyped-def]
    records = frame[detector.field_names].head(1000).to_dict(orient="records")
    figures: dict = {"onnx": None, "sklearn": None}
    manifest = json.loads((bundle / "manifest.json").read_text())
    served_by = manifest["serving"]["runtime"]
    both = served_by == "onnx" and manifest["flavour"] == "sklearn"  # an H2O model has no sklearn form
    for kind in ("onnx", "sklearn") if both else (served_by,):
        runtime = load_runtime(bundle, kind)
        X = runtime.features.transform(columns_from_frame(frame.head(1000)))
        runtime.score_records(records[:10])  # warm up
        one = timed(lambda r=runtime: r.score_records(records[:1]), 300)
        one_model = timed(lambda r=runtime, x=X: r.score_matrix(x[:1]), 300)
        batch = timed(lambda r=runtime: r.score_records(records), 10)
        batch_model = timed(lambda r=runtime, x=X: r.score_matrix(x), 10)
        figures[kind] = {
            "one_row_ms_p50": statistics.median(one) * 1e3,
            "one_row_model_only_ms_p50": statistics.median(one_model) * 1e3,
            "batch_1000_ms_p50": statistics.median(batch) * 1e3,
            "batch_1000_model_only_ms_p50": statistics.median(batch_model) * 1e3,
        }
    figures["certification_max_abs_diff"] = certify(bundle).max_abs_diff
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=284_807, help="transactions to train on (Kaggle size)")
    parser.add_argument("--app-rows", type=int, default=284_807, help="applications to train on")
    parser.add_argument("--synth-rows", type=int, default=1_000_000)
    parser.add_argument("--recipes", default=",".join(RECIPE_NAMES))
    parser.add_argument("--out", type=Path, default=Path("bench/reports"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": {"python": platform.python_version(), "cpus": __import__("os").cpu_count(),
                                "platform": platform.platform()}, "synthesis": {}, "detectors": {}}

    for name in ("card-transactions", "card-applications"):
        started = time.perf_counter()
        synthesize(name, args.synth_rows, seed=1)
        report["synthesis"][name] = {"rows": args.synth_rows, "seconds": time.perf_counter() - started}
        print(f"synth {name} {args.synth_rows} rows: {report['synthesis'][name]['seconds']:.1f}s", file=sys.stderr)

    work = Path(tempfile.mkdtemp(prefix="arbiter-bench-"))
    for name, rows in (("card-transactions", args.rows), ("card-applications", args.app_rows)):
        detector = get_detector(name)
        frame = prepare_frame(synthesize(name, rows, seed=2026), detector)
        results = {}
        for recipe in args.recipes.split(","):
            if recipe in H2O_RECIPES and "h2o_start_seconds" not in report:
                started = time.perf_counter()
                h2o_engine.cluster()
                report["h2o_start_seconds"] = time.perf_counter() - started
            result = train(detector, get_recipe(recipe), frame, work / f"{name}-{recipe}", seed=1)
            v = result.manifest["metrics"]["validation"]
            results[recipe] = {
                "train_seconds": result.seconds,
                "roc_auc": v["roc_auc"], "pr_auc": v["pr_auc"], "f1": v["f1"],
                "validation_rows": v["rows"], "validation_positives": v["positives"],
                "scoring": scoring_figures(result.bundle_dir, frame.tail(5000), detector),
            }
            print(f"{name} {recipe}: {json.dumps(results[recipe])}", file=sys.stderr)
        report["detectors"][name] = {"rows": rows, "positives": int(frame[detector.label].sum()), "recipes": results}

    (args.out / "training_and_scoring.json").write_text(json.dumps(report, indent=1))
    (args.out / "training_and_scoring.md").write_text(render(report))
    print(render(report))


def render(report: dict) -> str:
    lines = ["# Training and scoring benchmark", "",
             f"Machine: {report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
             f"{report['machine']['platform']}.", "", "## Synthesis", "",
             "| detector | rows | seconds |", "|---|---:|---:|"]
    for name, s in report["synthesis"].items():
        lines.append(f"| {name} | {s['rows']:,} | {s['seconds']:.1f} |")
    for name, d in report["detectors"].items():
        lines += ["", f"## {name}: {d['rows']:,} rows, {d['positives']:,} fraud", "",
                  "| recipe | train s | val ROC-AUC | val PR-AUC | onnx 1 row ms (model only) | onnx 1,000 rows ms "
                  "| sklearn 1 row ms (model only) | sklearn 1,000 rows ms | cert max diff |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for recipe, r in d["recipes"].items():
            o, s = r["scoring"]["onnx"], r["scoring"]["sklearn"]
            onnx_cells = (f"{o['one_row_ms_p50']:.3f} ({o['one_row_model_only_ms_p50']:.3f}) | "
                          f"{o['batch_1000_ms_p50']:.1f}") if o else "- (no ONNX form) | -"
            sklearn_cells = (f"{s['one_row_ms_p50']:.3f} ({s['one_row_model_only_ms_p50']:.3f}) | "
                             f"{s['batch_1000_ms_p50']:.1f}") if s else "- | -"
            lines.append(
                f"| {recipe} | {r['train_seconds']:.1f} | {r['roc_auc']:.4f} | {r['pr_auc']:.4f} "
                f"| {onnx_cells} | {sklearn_cells} | {r['scoring']['certification_max_abs_diff']:.1e} |")
    if "h2o_start_seconds" in report:
        lines += ["", f"Local H2O start-up (not in the training times): {report['h2o_start_seconds']:.1f} s."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
