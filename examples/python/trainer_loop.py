#!/usr/bin/env python3
"""A Hugging Face Trainer-style loop (optimizer steps, epoch ends, evaluation when asked) whose
checkpoint folders are decided by the Trainer's rules, through `ckpt serve --stdio --dialect transformers`.

The loop carries out the effects: mkdir, evaluate (answered with `evaluated`), save (write the
checkpoint folder, answered with `checkpointSaved` and the listing), writeTrainerState, remove
(rotation by save_total_limit), log, error. Paths are relative to --dir, the working directory.

    python3 examples/python/trainer_loop.py --dir /tmp/hf-run --epochs 4
"""
import argparse
import json
import os
import shutil
import sys

from ckpt_dialect import DialectSidecar, write_atomically

ARGS = {"output_dir": "out", "num_train_epochs": 4, "per_device_train_batch_size": 4, "save_strategy": "epoch", "eval_strategy": "epoch",
        "save_total_limit": 2, "load_best_model_at_end": True, "metric_for_best_model": "loss", "greater_is_better": False}
EVAL_LOSS = [0.9, 0.5, 0.7, 0.6]  # per epoch: epoch 2 is the best


def listing():
    out = []
    for dirpath, dirnames, filenames in os.walk("."):
        for name in dirnames + filenames:
            p = os.path.normpath(os.path.join(dirpath, name))
            out.append({"path": p, "kind": "dir" if os.path.isdir(p) else "file", "mtime": os.stat(p).st_mtime})
    return sorted(out, key=lambda e: e["path"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--transcript", default=None)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    transcript = os.path.abspath(args.transcript) if args.transcript else None
    os.chdir(args.dir)
    sidecar = DialectSidecar("transformers", transcript)
    batches, clock = 3, [1_700_000_000.0]

    def now():
        clock[0] += 0.5
        return clock[0]

    def carry_out(answer, epoch):
        for e in answer["effects"]:
            kind = e["type"]
            if kind == "mkdir":
                os.makedirs(e["path"], exist_ok=True)
            elif kind == "evaluate":
                carry_out(sidecar.send({"type": "evaluated", "metrics": {"eval_loss": EVAL_LOSS[int(epoch) - 1]}}), epoch)
            elif kind == "save":
                for f in e["files"]:
                    write_atomically(os.path.join(e["path"], f), {"epoch": epoch})
                carry_out(sidecar.send({"type": "checkpointSaved", "path": e["path"], "time": now(), "files": listing()}), epoch)
            elif kind == "writeTrainerState":
                write_atomically(e["path"], e["state"])
            elif kind == "remove":
                shutil.rmtree(e["path"], ignore_errors=True)
            elif kind == "log" and e["level"] != "debug":
                print(e["message"])
            elif kind == "load":
                print(f"loading {e['path']} ({e['reason']})")
            elif kind == "error":
                raise RuntimeError(f"{e['errorType']}: {e['message']}")

    carry_out(sidecar.send({"type": "init", "options": ARGS, "setup": {"trainBatches": batches, "hasEvalDataset": True}}), 0)
    carry_out(sidecar.send({"type": "trainBegan", "time": now(), "files": listing(), "resumeFromCheckpoint": None}), 0)
    step = 0
    for epoch in range(ARGS["num_train_epochs"]):
        for b in range(batches):
            step += 1
            carry_out(sidecar.send({"type": "stepEnded", "globalStep": step, "epoch": epoch + (b + 1) / batches, "time": now()}), epoch + 1)
        carry_out(sidecar.send({"type": "epochEnded", "globalStep": step, "epoch": float(epoch + 1), "time": now()}), epoch + 1)
    final = sidecar.send({"type": "trainEnded", "time": now(), "files": listing()})
    carry_out(final, ARGS["num_train_epochs"])
    sidecar.close()
    print(json.dumps({"best_model_checkpoint": final["state"]["bestModelCheckpoint"], "checkpoints": sorted(os.listdir("out"))}))


if __name__ == "__main__":
    sys.exit(main())
