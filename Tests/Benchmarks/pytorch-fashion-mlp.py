# The PyTorch side of the learned-rounding target "a float MLP trained in PyTorch and exported with torch.onnx.export:
# mlround quantize --weight-bits 4 keeps its accuracy within 0.5 points" (docs/benchmarks.md, "Learned rounding").
# Trains torch.nn.Sequential(Linear(784, 256), ReLU, Linear(256, 128), ReLU, Linear(128, 10)) on Fashion-MNIST's 60,000
# training images (pixels / 255, Adam 0.001, batches of 128, 10 epochs, seed from argv), folds the / 255 into the first
# layer so that the ONNX network reads raw pixel values as mlround's CSV columns hold them, exports it (opset 13) and
# prints its test accuracy. Usage: /usr/bin/python3 pytorch-fashion-mlp.py SEED OUT.onnx  (Debian: python3-torch)
import gzip, sys
import numpy as np
import torch
from torch import nn

seed, out = int(sys.argv[1]), sys.argv[2]
folder = "/usr/share/datasets/fashion-mnist/"
def images(name): return np.frombuffer(gzip.open(folder + name).read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
def labels(name): return np.frombuffer(gzip.open(folder + name).read(), np.uint8, offset=8).astype(np.int64)
x, y = torch.tensor(images("train-images-idx3-ubyte.gz")) / 255, torch.tensor(labels("train-labels-idx1-ubyte.gz"))
tx, ty = torch.tensor(images("t10k-images-idx3-ubyte.gz")), torch.tensor(labels("t10k-labels-idx1-ubyte.gz"))
torch.manual_seed(seed)
torch.set_num_threads(2)
model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
optimizer = torch.optim.Adam(model.parameters(), 1e-3)
for epoch in range(10):
    order = torch.randperm(len(x))
    for i in range(0, len(x), 128):
        batch = order[i:i + 128]
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
with torch.no_grad():
    model[0].weight /= 255  # raw pixels in
    accuracy = (model(tx).argmax(1) == ty).float().mean().item()
model.eval()
torch.onnx.export(model, tx[:2], out, input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}}, opset_version=13)
print(f"pytorch float test accuracy: {accuracy:.4f}")
