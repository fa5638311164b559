import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    """block basic, used with out 8, stride 1, down off"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-05)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-05)

    def forward(self, x):
        h = self.conv1(x)
        h = self.bn1(h)
        h = F.relu(h)
        h = self.conv2(h)
        h = self.bn2(h)
        h = h + x
        h = F.relu(h)
        return h


class Basic2(nn.Module):
    """block basic, used with out 16, stride 2, down on"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16, eps=1e-05)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16, eps=1e-05)
        self.downsample = nn.ModuleList([
            nn.Conv2d(8, 16, 1, stride=2, bias=False),
            nn.BatchNorm2d(16, eps=1e-05),
        ])

    def forward(self, x):
        h = self.conv1(x)
        h = self.bn1(h)
        h = F.relu(h)
        h = self.conv2(h)
        x1 = self.bn2(h)
        h = x
        for layer in self.downsample:
            h = layer(h)
        h = x1 + h
        h = F.relu(h)
        return h


class Bottleneck(nn.Module):
    """block bottleneck, used with width 8, stride 2, down on"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(16, 8, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-05)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-05)
        self.conv3 = nn.Conv2d(8, 32, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(32, eps=1e-05)
        self.downsample = nn.ModuleList([
            nn.Conv2d(16, 32, 1, stride=2, bias=False),
            nn.BatchNorm2d(32, eps=1e-05),
        ])

    def forward(self, x):
        h = self.conv1(x)
        h = self.bn1(h)
        h = F.relu(h)
        h = self.conv2(h)
        h = self.bn2(h)
        h = F.relu(h)
        h = self.conv3(h)
        x1 = self.bn3(h)
        h = x
        for layer in self.downsample:
            h = layer(h)
        h = x1 + h
        h = F.relu(h)
        return h


class Bottleneck2(nn.Module):
    """block bottleneck, used with width 8, stride 1, down off"""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(32, 8, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-05)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8, eps=1e-05)
        self.conv3 = nn.Conv2d(8, 32, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(32, eps=1e-05)

    def forward(self, x):
        h = self.conv1(x)
        h = self.bn1(h)
        h = F.relu(h)
        h = self.conv2(h)
        h = self.bn2(h)
        h = F.relu(h)
        h = self.conv3(h)
        h = self.bn3(h)
        h = h + x
        h = F.relu(h)
        return h


class Model(nn.Module):
    """resnet_small, emitted by archc: its state_dict holds the tensors `archc params --names` lists."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8, eps=1e-05)
        self.layer1 = nn.ModuleList([Basic()])
        self.layer2 = nn.ModuleList([Basic2()])
        self.layer3 = nn.ModuleList([Bottleneck(), Bottleneck2()])
        self.fc = nn.Linear(32, 10)

    def forward(self, image):
        x = self.conv1(image)
        x = self.bn1(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 3, 2, 1)
        x = self.layer1[0](x)
        x = self.layer2[0](x)
        for layer in self.layer3:
            x = layer(x)
        x = x.mean((2, 3))
        x = self.fc(x)
        return x
