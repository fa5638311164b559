import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    """block basic(out, stride, down), built for down off"""

    def __init__(self, channels, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out, eps=1e-05)
        self.conv2 = nn.Conv2d(out, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out, eps=1e-05)

    def forward(self, x):
        h = self.conv1(x)
        h = self.bn1(h)
        h = F.relu(h)
        h = self.conv2(h)
        h = self.bn2(h)
        h = h + x
        h = F.relu(h)
        return h


class BasicDown(nn.Module):
    """block basic(out, stride, down), built for down on"""

    def __init__(self, channels, out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out, eps=1e-05)
        self.conv2 = nn.Conv2d(out, out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out, eps=1e-05)
        self.downsample = nn.ModuleList([
            nn.Conv2d(channels, out, 1, stride=stride, bias=False),
            nn.BatchNorm2d(out, eps=1e-05),
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
    """block bottleneck(width, stride, down), built for down on"""

    def __init__(self, channels, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-05)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=1e-05)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4, eps=1e-05)
        self.downsample = nn.ModuleList([
            nn.Conv2d(channels, width * 4, 1, stride=stride, bias=False),
            nn.BatchNorm2d(width * 4, eps=1e-05),
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


class BottleneckNoDown(nn.Module):
    """block bottleneck(width, stride, down), built for down off"""

    def __init__(self, channels, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-05)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=1e-05)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4, eps=1e-05)

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
        self.layer1 = nn.ModuleList([Basic(8, 8, stride=1)])
        self.layer2 = nn.ModuleList([BasicDown(8, 16, stride=2)])
        self.layer3 = nn.ModuleList([Bottleneck(16, 8, stride=2), BottleneckNoDown(32, 8, stride=1)])
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
