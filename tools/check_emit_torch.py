#!/usr/bin/env python3
"""`archc emit torch` checked in PyTorch: the test suite runs it (Tests/ArchTests/TorchNumericsTests.swift).

    python3 tools/check_emit_torch.py CASES.json

Each case of the JSON list: {"name", "module": model.py, "names": [[name, [shape...]], ...]} and, for
numerics, "weights" (safetensors), "inputs" (.npy files in forward's order) and "reference" (archc's
output .npy). The module must compile and construct (on the meta device when there are no weights:
full-size specs), its state_dict must hold exactly `names`, in order, with those shapes; with weights it
loads them with strict=True and its output on the inputs must match the reference within
1e-4 x max(1, max|ref|). Prints one JSON line per case: {"name", "ok", "error"?, "diff", "scale"}.
"""
import importlib.util, json, sys, traceback


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check(case, index):
    import numpy as np, torch
    mod = load(case["module"], f"emitted_{index}")
    with torch.device("meta" if "weights" not in case else "cpu"):
        torch.manual_seed(0)
        model = mod.Model()
    got = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    if got != case["names"]:
        want = case["names"]
        diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        return {"error": f"state_dict differs at entry {diff}: {got[diff:diff + 2]} where archc has {want[diff:diff + 2]} ({len(got)} vs {len(want)} tensors)"}
    if "weights" not in case:
        return {}
    from safetensors.torch import load_file
    model.load_state_dict(load_file(case["weights"]), strict=True)
    model.eval()
    xs = [torch.from_numpy(np.load(p)) for p in case["inputs"]]
    with torch.no_grad():
        y = model(*xs).numpy()
    ref = np.load(case["reference"])
    if y.shape != ref.shape:
        return {"error": f"output shape {list(y.shape)}, archc's {list(ref.shape)}"}
    return {"diff": float(np.abs(y - ref).max()), "scale": max(1.0, float(np.abs(ref).max()))}


def main():
    cases = json.load(open(sys.argv[1]))
    for i, case in enumerate(cases):
        try:
            r = check(case, i)
        except Exception as e:
            r = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc(limit=-3)}
        r["name"] = case["name"]
        r["ok"] = "error" not in r and r.get("diff", 0) <= 1e-4 * r.get("scale", 1)
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
