"""Another program on the same machine: a PyTorch process training a small CNN on 2 threads until killed.

It runs with whatever OpenMP settings its environment gives it (the bench passes it a plain environment, as a
user's own script would have), and prints one line when it has warmed up.
usage: python -m benchmarks.probes.competitor [THREADS]
"""

import sys

import torch
from torch import nn

if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 49, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    images, labels = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    for step in range(10**12):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
        if step == 5:
            print("ready", flush=True)
