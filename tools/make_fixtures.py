#!/usr/bin/env python3
"""Developer tool: numerics fixtures from PyTorch for the interpreter tests.

For each reduced configuration of a real library module it writes, under
Tests/ArchTests/Fixtures/numerics/NAME/: weights.safetensors (the module's state_dict, BatchNorm
statistics randomised), input.npy and output.npy (PyTorch's output). The matching spec is
NAME.arch beside them, written by hand. Needs torch, torchvision and safetensors:
    python3 tools/make_fixtures.py
"""
import os
import numpy as np
import torch
import torch.nn as nn
import torchvision
from safetensors.torch import save_file

root = "Tests/ArchTests/Fixtures/numerics"
torch.manual_seed(0)


def randomise_batchnorm(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)


def write(name, model, x):
    model.eval()
    randomise_batchnorm(model)
    with torch.no_grad():
        y = model(x)
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(d, "weights.safetensors"))
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "output.npy"), y.numpy())
    print(name, tuple(y.shape), float(y.abs().max()))


class SmallResNet(nn.Module):
    """torchvision's own BasicBlock and Bottleneck, at small widths (the full ResNet class fixes them at 64-512)."""

    def __init__(self):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, Bottleneck
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))))
        self.layer3 = nn.Sequential(Bottleneck(16, 8, 2, nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))),
                                    Bottleneck(32, 8))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


write("resnet_small", SmallResNet(), torch.randn(2, 3, 32, 32))

# torchvision's VisionTransformer: 2 layers, width 64, 4 heads, 32x32 images in 8x8 patches.
# Its head starts at zero; give it random weights so the output says something.
vit = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
nn.init.normal_(vit.heads.head.weight, std=0.1)
nn.init.normal_(vit.heads.head.bias, std=0.1)
write("vit_small", vit, torch.randn(2, 3, 32, 32))

# The seed MLP, narrower: 64 -> 128 (GELU) -> 10.
write("mlp_small", nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, 10)), torch.randn(3, 64))
