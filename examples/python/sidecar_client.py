#!/usr/bin/env python3
"""A hand-written Python training loop that lets ckpt-policy decide its checkpoints.

It starts `ckpt serve --stdio`, reports each loop moment as one JSON line, and carries out the
answer's effects itself, in order: save (write the checkpoint, with the policy's `record` inside),
remove, link. Standard library only; the "model" is a linear regression trained with SGD.

    python3 examples/python/sidecar_client.py --dir /tmp/ckpts --epochs 6
    python3 examples/python/sidecar_client.py --dir /tmp/ckpts --epochs 6 --resume   # continue from last.ckpt
"""
import argparse
import json
import os
import random
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPTIONS = {"monitor": "val_loss", "mode": "min", "save_top_k": 2, "save_last": True, "filename": "{epoch}-{val_loss:.4f}"}


class Sidecar:
    """One request, one answer: a JSON line out, a JSON line back."""

    def __init__(self, options, cwd):
        # the compiled CLI, unless CKPT_COMMAND holds another command as a JSON list (the tests run the sources)
        default = [os.environ.get("NODE", "node"), os.path.join(REPO, "bin", "ckpt.js")]
        ckpt = json.loads(os.environ["CKPT_COMMAND"]) if "CKPT_COMMAND" in os.environ else default
        cmd = ckpt + ["serve", "--stdio", "--options", json.dumps(options), "--cwd", cwd]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def send(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer["ok"]:
            raise RuntimeError(f"sidecar refused line {answer['line']}: {answer['error']['message']}")
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def carry_out(answer, model, verbose):
    """Performs the effects in the order given: a save always precedes the removal it causes."""
    for effect in answer["effects"]:
        kind = effect["type"]
        if kind == "save":
            tmp = effect["path"] + ".tmp"
            os.makedirs(os.path.dirname(effect["path"]), exist_ok=True)
            with open(tmp, "w") as f:
                json.dump({"weights": model, "ckpt_policy": answer["record"]}, f)
            os.replace(tmp, effect["path"])  # atomic: a reader never sees half a checkpoint
        elif kind == "remove":
            if os.path.lexists(effect["path"]):
                os.remove(effect["path"])
        elif kind == "link":
            if os.path.lexists(effect["path"]):
                os.remove(effect["path"])
            os.symlink(effect["relTarget"], effect["path"])
        elif kind == "error":
            raise RuntimeError(f"{effect['errorType']}: {effect['message']}")
        if kind != "log" and verbose:
            print(effect["explain"])
        elif kind == "log" and effect["level"] != "debug":
            print(f"[{effect['level']}] {effect['message']}")


def listing(directory):
    if not os.path.isdir(directory):
        return []
    return [{"path": os.path.join(directory, n), "kind": "symlink" if os.path.islink(os.path.join(directory, n)) else "file"} for n in sorted(os.listdir(directory))]


def data(n, seed):
    rng = random.Random(seed)
    xs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(n)]
    return [(x, 2 * x[0] - x[1] + 0.5 * x[2] + 0.3 + rng.gauss(0, 0.1)) for x in xs]


def mse(model, rows):
    return sum((sum(w * xi for w, xi in zip(model["w"], x)) + model["b"] - y) ** 2 for x, y in rows) / len(rows)


def sgd_step(model, batch, lr):
    gw, gb = [0.0, 0.0, 0.0], 0.0
    for x, y in batch:
        err = sum(w * xi for w, xi in zip(model["w"], x)) + model["b"] - y
        gw = [g + 2 * err * xi / len(batch) for g, xi in zip(gw, x)]
        gb += 2 * err / len(batch)
    model["w"] = [w - lr * g for w, g in zip(model["w"], gw)]
    model["b"] -= lr * gb


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="checkpoint directory")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--resume", action="store_true", help="continue from last.ckpt in --dir")
    ap.add_argument("--stop-after-epoch", type=int, default=None, help="exit abruptly after this epoch (to try resume)")
    ap.add_argument("--events-log", default=None, help="append every event sent to this JSON-lines file")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    directory = os.path.abspath(args.dir)
    train, val = data(64, 1), data(32, 2)
    batches = [train[i:i + 16] for i in range(0, len(train), 16)]

    sidecar = Sidecar(dict(OPTIONS, dirpath=directory), os.getcwd())
    log = open(args.events_log, "a") if args.events_log else None

    def send(event):
        if log:
            log.write(json.dumps(event) + "\n")
            log.flush()
        return sidecar.send(event)

    model, first_epoch, step = {"w": [0.0, 0.0, 0.0], "b": 0.0}, 0, 0
    if args.resume:
        with open(os.path.join(directory, "last.ckpt")) as f:
            ckpt = json.load(f)
        model, record = ckpt["weights"], ckpt["ckpt_policy"]
        first_epoch, step = record["epoch"] + 1, record["globalStep"]
        answer = send({"type": "resume", "record": record})
        for path in answer["pending_removals"]:  # removals decided before the stop, not yet done
            if os.path.lexists(path):
                os.remove(path)
        print(f"resuming after epoch {record['epoch']} (step {step})")

    carry_out(send({"type": "setup", "files": listing(directory)}), model, args.verbose)
    metrics = {}
    carry_out(send({"type": "trainStarted", "view": {"epoch": first_epoch, "globalStep": step, "numValBatches": [1], "metrics": metrics}}), model, args.verbose)
    for epoch in range(first_epoch, args.epochs):
        for i, batch in enumerate(batches):
            sgd_step(model, batch, 0.1)
            step += 1
            metrics["train_loss"] = mse(model, batch)
            last = i == len(batches) - 1
            view = {"epoch": epoch, "globalStep": step, "isLastBatch": last, "numValBatches": [1], "metrics": dict(metrics)}
            carry_out(send({"type": "trainBatchEnded", "batchIdx": i, "view": view}), model, args.verbose)
        metrics["val_loss"] = mse(model, val)
        view = {"epoch": epoch, "globalStep": step, "isLastBatch": True, "valLoopHasRun": True, "numValBatches": [1], "metrics": dict(metrics)}
        carry_out(send({"type": "validationEnded", "view": view}), model, args.verbose)
        answer = send({"type": "trainEpochEnded", "view": view})
        carry_out(answer, model, args.verbose)
        print(f"epoch {epoch}: val_loss {metrics['val_loss']:.4f}  best {answer['best_model_path'] and os.path.basename(answer['best_model_path'])}")
        if args.stop_after_epoch == epoch:
            os._exit(3)  # no clean shutdown: as if the process were killed
    carry_out(send({"type": "trainEnded", "view": {"epoch": args.epochs, "globalStep": step, "numValBatches": [1], "metrics": dict(metrics)}}), model, args.verbose)
    summary = sidecar.send({"type": "query"})
    sidecar.close()
    print(json.dumps({"best_model_path": summary["best_model_path"], "best_model_score": summary["best_model_score"], "best_k_models": summary["best_k_models"], "last_model_path": summary["last_model_path"]}))


if __name__ == "__main__":
    sys.exit(main())
