#!/usr/bin/env python3
"""The round trip when scaling out: emit the module, train it a few steps on 2 processes with
DistributedDataParallel (gloo, CPU), save its state_dict with safetensors, run the result with
`archc run`, and check both give the same outputs. Needs torch, safetensors and numpy.

    python3 tools/torch_roundtrip.py specs/mlp.arch 4x1024 [--steps 5] [--dir /tmp/roundtrip]

SHAPE is the (float) input's shape, batch first. The training data are random; what is checked is
that the trained weights, saved as PyTorch saves them, load into archc under the same names and give
the same outputs (max|diff| <= 1e-4 x max(1, max|ref|)).
"""
import argparse, os, subprocess, sys

ARCHC = ".build/release/archc" if os.path.exists(".build/release/archc") else ".build/debug/archc"


def train(args):
    """One process of torchrun: DDP over gloo, a few SGD steps, rank 0 saves the weights."""
    import importlib.util, torch, torch.distributed as dist
    from safetensors.torch import save_file
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    spec = importlib.util.spec_from_file_location("model", os.path.join(args.dir, "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)  # every rank starts from the same weights (DDP also broadcasts rank 0's)
    model = torch.nn.parallel.DistributedDataParallel(mod.Model())
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    shape = [int(s) for s in args.shape.split("x")]
    g = torch.Generator().manual_seed(rank)
    for step in range(args.steps):
        x = torch.randn(shape, generator=g)
        loss = model(x).float().pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if rank == 0:
            print(f"step {step}: loss {loss.item():.5f}", flush=True)
    if rank == 0:
        # DDP's module holds the spec's names; safetensors wants contiguous tensors that share no memory.
        state = {k: v.detach().contiguous().clone() for k, v in model.module.state_dict().items()}
        save_file(state, os.path.join(args.dir, "trained.safetensors"))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spec"); p.add_argument("shape")
    p.add_argument("--steps", type=int, default=5); p.add_argument("--dir", default="/tmp/archc-roundtrip")
    p.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.train:
        return train(args)
    import importlib.util, numpy as np, torch
    from safetensors.torch import load_file
    os.makedirs(args.dir, exist_ok=True)
    module, weights = os.path.join(args.dir, "model.py"), os.path.join(args.dir, "trained.safetensors")
    subprocess.run([ARCHC, "emit", "torch", args.spec, "-o", module], check=True)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", os.path.abspath(__file__),
                    args.spec, args.shape, "--steps", str(args.steps), "--dir", args.dir, "--train"], check=True)
    x = np.random.default_rng(1).standard_normal([int(s) for s in args.shape.split("x")]).astype(np.float32)
    np.save(os.path.join(args.dir, "x.npy"), x)
    out = os.path.join(args.dir, "archc.npy")
    subprocess.run([ARCHC, "run", args.spec, "--weights", weights, "--input", os.path.join(args.dir, "x.npy"), "--output", out],
                   check=True, stdout=subprocess.DEVNULL)
    spec = importlib.util.spec_from_file_location("model", module)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.Model().eval()
    model.load_state_dict(load_file(weights), strict=True)
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = np.load(out)
    diff, scale = float(np.abs(ref - got).max()), max(1.0, float(np.abs(ref).max()))
    print(f"{os.path.basename(args.spec)}: archc run vs PyTorch on the trained weights: max|diff| {diff:.3g} (scale {scale:.3g})")
    sys.exit(0 if diff <= 1e-4 * scale else 1)


if __name__ == "__main__":
    main()
