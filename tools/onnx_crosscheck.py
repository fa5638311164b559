#!/usr/bin/env python3
"""Checks exported ONNX models against archc's own outputs (shared by tools/check_onnx_export.sh and
the Swift test ONNXExportTests).

    python3 tools/onnx_crosscheck.py cases.json

cases.json: {"cases": [{"name": ..., "model": "m.onnx", "inputs": {"image": "x.npy", ...},
                        "reference": "y.npy", "repeat": 1}, ...]}

Each model (and its external data file, if it has one) must pass onnx.checker.check_model(full_check=True), and ONNX Runtime's output must equal
the reference (archc run's) within max|diff| <= 1e-4 x max(1, max|ref|). With "repeat": N the inputs are
also given N times over along the batch (the model's batch is symbolic) and the output must be the
reference N times over. One line per case; exit status 1 if any fails. Needs onnx, onnxruntime, numpy.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-4


def run(session, feeds):
    types = {i.name: i.type for i in session.get_inputs()}
    cast = {k: (v.astype(np.int64) if types[k] == "tensor(int64)" else v.astype(np.float32)) for k, v in feeds.items()}
    return session.run(None, cast)[0]


def compare(out, ref):
    if out.shape != ref.shape:
        return None, f"shape {list(out.shape)}, archc's {list(ref.shape)}"
    diff = float(np.max(np.abs(out.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    limit = TOLERANCE * max(1.0, float(np.max(np.abs(ref))) if ref.size else 0.0)
    return diff, limit


def check(case):
    # By path: a model with external data (over 2 GB) is checked with its weights file.
    onnx.checker.check_model(case["model"], full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(case["model"], options, providers=["CPUExecutionProvider"])
    feeds = {name: np.load(path) for name, path in case["inputs"].items()}
    ref = np.load(case["reference"])
    worst, limit = compare(run(session, feeds), ref)
    if worst is None:
        return False, limit
    notes = [f"max|diff| {worst:.3g} (limit {limit:.3g})"]
    ok = worst <= limit
    repeat = case.get("repeat", 1)
    if repeat > 1:
        tiled = {k: np.concatenate([v] * repeat, axis=0) for k, v in feeds.items()}
        d, lim = compare(run(session, tiled), np.concatenate([ref] * repeat, axis=0))
        if d is None:
            return False, f"batch x{repeat}: {lim}"
        notes.append(f"batch x{repeat}: max|diff| {d:.3g}")
        ok = ok and d <= lim
    return ok, ", ".join(notes)


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    failures = 0
    for case in cases:
        try:
            ok, note = check(case)
        except Exception as e:  # a checker or runtime error is a failure of that case, not of the tool
            ok, note = False, f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        failures += 0 if ok else 1
        print(f"{'ok  ' if ok else 'FAIL'} {case['name']}: {note}", flush=True)
    print(f"{len(cases) - failures} of {len(cases)} models match archc run", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
