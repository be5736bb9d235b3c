#!/usr/bin/env python3
"""A Keras-style fit loop (epochs of batches, logs per batch and epoch) whose checkpoints are decided
by Keras 3's ModelCheckpoint rules, through `ckpt serve --stdio --dialect keras`.

The loop sends the hooks ModelCheckpoint overrides (EpochBegan, TrainBatchEnded, EpochEnded) and
carries out the effects: Save (write the model, then report SaveCompleted or SaveFailed), Print and
Warn (show them), Raise (raise it, as Keras leaves fit). The "model" is a linear regression.

    python3 examples/python/keras_loop.py --dir /tmp/keras-ckpts --epochs 5
"""
import argparse
import json
import os
import random
import sys

from ckpt_dialect import DialectSidecar, write_atomically


def data(n, seed):
    rng = random.Random(seed)
    xs = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(n)]
    return [(x, 1.5 * x[0] - 0.5 * x[1] + 0.2 + rng.gauss(0, 0.3)) for x in xs]


def mse(m, rows):
    return sum((m["w"][0] * x[0] + m["w"][1] * x[1] + m["b"] - y) ** 2 for x, y in rows) / len(rows)


def sgd(m, batch, lr):
    for x, y in batch:
        err = m["w"][0] * x[0] + m["w"][1] * x[1] + m["b"] - y
        m["w"] = [m["w"][0] - lr * err * x[0], m["w"][1] - lr * err * x[1]]
        m["b"] -= lr * err


def carry_out(sidecar, answer, model):
    for effect in answer["effects"]:
        tag = effect["_tag"]
        if tag == "Save":
            try:
                write_atomically(effect["filepath"], {"model": model, "epoch": effect["epoch"]})
            except OSError as e:
                carry_out(sidecar, sidecar.send({"_tag": "SaveFailed", "error": {"type": type(e).__name__, "message": str(e)}}), model)
            else:
                carry_out(sidecar, sidecar.send({"_tag": "SaveCompleted"}), model)
        elif tag in ("Print", "Warn"):
            print(effect["message"].strip())
        elif tag == "Raise":
            raise RuntimeError(f"{effect['error']['type']}: {effect['error']['message']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--transcript", default=None, help="write each line sent and its answer here (JSON lines)")
    args = ap.parse_args()
    directory = os.path.abspath(args.dir)
    options = {"filepath": os.path.join(directory, "model-{epoch:02d}-{val_loss:.3f}.keras"), "monitor": "val_loss", "save_best_only": True, "verbose": 1}
    sidecar = DialectSidecar("keras", args.transcript)
    sidecar.send({"type": "init", "options": options})
    train, val = data(48, 1), data(24, 2)
    model = {"w": [0.0, 0.0], "b": 0.0}
    carry_out(sidecar, sidecar.send({"_tag": "TrainBegan"}), model)
    for epoch in range(args.epochs):
        carry_out(sidecar, sidecar.send({"_tag": "EpochBegan", "epoch": epoch}), model)
        for i in range(0, len(train), 12):
            sgd(model, train[i:i + 12], 0.05)
            carry_out(sidecar, sidecar.send({"_tag": "TrainBatchEnded", "batch": i // 12, "logs": {"loss": mse(model, train[i:i + 12])}}), model)
        # a noisy validation loss, so that some epochs do not improve on the best
        logs = {"loss": mse(model, train), "val_loss": mse(model, val) * (1.3 if epoch % 2 else 1.0)}
        carry_out(sidecar, sidecar.send({"_tag": "EpochEnded", "epoch": epoch, "logs": logs}), model)
    final = sidecar.send({"_tag": "TrainEnded", "logs": logs})
    sidecar.close()
    print(json.dumps({"best": final["state"]["best"], "files": sorted(os.listdir(directory)) if os.path.isdir(directory) else []}))


if __name__ == "__main__":
    sys.exit(main())
