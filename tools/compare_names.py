#!/usr/bin/env python3
"""Developer tool: compare `archc params --names` with the state_dict of the reference PyTorch module.

Needs torch, torchvision and timm (not needed to build or test archc):
    python3 tools/compare_names.py [--archc PATH]
Prints, per spec, whether every name and shape matches, in order.
"""
import argparse
import subprocess
import sys


def reference_modules():
    import timm
    import torchvision.models as tv
    return {
        "alexnet": lambda: tv.alexnet(),
        "resnet18": lambda: tv.resnet18(),
        "resnet50": lambda: tv.resnet50(),
        "mobilenet_v2": lambda: tv.mobilenet_v2(),
        "vit_b16": lambda: tv.vit_b_16(),
        "swin_t": lambda: tv.swin_t(),
        "mixer_b16": lambda: timm.create_model("mixer_b16_224", pretrained=False),
        "gmlp_s16": lambda: timm.create_model("gmlp_s16_224", pretrained=False),
        "gmlp_ti16": lambda: timm.create_model("gmlp_ti16_224", pretrained=False),
        "convmixer_768_32": lambda: timm.create_model("convmixer_768_32", pretrained=False),
        "densenet121": lambda: tv.densenet121(),
        "convnext_t": lambda: tv.convnext_tiny(),
        "deit_s_distilled": lambda: timm.create_model("deit_small_distilled_patch16_224", pretrained=False),
    }


def archc_names(archc, spec):
    out = subprocess.run([archc, "params", f"specs/{spec}.arch", "--names"], check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        name, rest = line.split(" ", 1)
        shape = rest[rest.index("[") + 1:rest.index("]")]
        rows.append((name, tuple(int(x) for x in shape.split(", ") if x)))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--archc", default=".build/debug/archc")
    ap.add_argument("specs", nargs="*")
    args = ap.parse_args()
    refs = reference_modules()
    failed = False
    for spec in args.specs or refs:
        sd = refs[spec]().state_dict()
        want = [(k, tuple(v.shape)) for k, v in sd.items()]
        got = archc_names(args.archc, spec)
        if want == got:
            print(f"{spec}: {len(got)} tensors match")
            continue
        failed = True
        print(f"{spec}: MISMATCH ({len(got)} from archc, {len(want)} in the state_dict)")
        for i, (w, g) in enumerate(zip(want, got)):
            if w != g:
                print(f"  first difference at #{i}: state_dict {w} vs archc {g}")
                break
        missing = set(want) - set(got)
        extra = set(got) - set(want)
        for m in sorted(missing)[:10]:
            print(f"  missing in archc: {m}")
        for e in sorted(extra)[:10]:
            print(f"  not in state_dict: {e}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
