# Writes the small float ONNX networks the ONNX reader's tests read, with PyTorch's own exporter, and the outputs
# PyTorch computes for fixed inputs (CSV: the input values, then the outputs, one row per input).
# Made with Debian 12's python3-torch (PyTorch 1.13) and python3-onnx: /usr/bin/python3 make.py (in this folder).
import csv
import torch
from torch import nn

torch.manual_seed(20261205)


def export(name, model, shape, opset=13):
    model.eval()
    x = torch.randn(6, *shape)
    torch.onnx.export(model, torch.randn(2, *shape), name + ".onnx", input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset)
    with torch.no_grad():
        y = model(x)
    with open(name + ".csv", "w", newline="") as f:
        writer = csv.writer(f)
        for row_in, row_out in zip(x.reshape(6, -1).tolist(), y.reshape(6, -1).tolist()):
            writer.writerow([repr(v) for v in row_in + row_out])


export("mlp-multiclass", nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3)), (4,))
export("mlp-regression-opset17", nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 1)), (5,), opset=17)
export("cnn-multiclass", nn.Sequential(
    nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(6 * 2 * 2, 8), nn.ReLU(), nn.Linear(8, 3)), (1, 8, 8))
export("mlp-binary-sigmoid", nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()), (3,))
export("mlp-tanh", nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)), (4,))
