#!/usr/bin/env python3
"""Developer tool: writes the small tensor files the IO tests read (Tests/ArchTests/Fixtures/io).

Needs numpy, torch and safetensors; run from the repository root:
    python3 tools/make_io_fixtures.py
Values are simple formulas so the tests can state them: arange(n) * 0.5 - 1, and so on.
"""
import os
import numpy as np
import torch
from safetensors.torch import save_file

out = "Tests/ArchTests/Fixtures/io"
os.makedirs(out, exist_ok=True)
a = (np.arange(12, dtype=np.float32) * 0.5 - 1).reshape(3, 4)
np.save(f"{out}/f32.npy", a)
np.save(f"{out}/f64.npy", a.astype(np.float64))
np.save(f"{out}/i64.npy", np.array([[101, 2023, 102]], dtype=np.int64))
np.save(f"{out}/i32.npy", np.array([7, -3], dtype=np.int32))
np.save(f"{out}/scalar.npy", np.float32(2.5))
np.save(f"{out}/fortran.npy", np.asfortranarray(a))
np.save(f"{out}/bigendian.npy", a.astype(">f4"))
np.save(f"{out}/object.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
np.save(f"{out}/uint8.npy", np.arange(4, dtype=np.uint8))

t = torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.25
save_file({
    "conv.weight": t,
    "half": t.to(torch.float16),
    "brain": t.to(torch.bfloat16),
    "bn.num_batches_tracked": torch.tensor(5, dtype=torch.int64),
    "ids": torch.tensor([1, -2, 3], dtype=torch.int32),
}, f"{out}/mixed.safetensors", metadata={"format": "pt"})
