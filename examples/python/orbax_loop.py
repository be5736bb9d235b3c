#!/usr/bin/env python3
"""A JAX-style loop that calls `manager.save(step, metrics)` every step and lets Orbax's
CheckpointManager rules decide, through `ckpt serve --stdio --dialect orbax`.

The manager's answer lists directory operations in order; the loop carries them out: save (write
the step's folder), commit (its _CHECKPOINT_METADATA: the folder is complete), rename, remove.
Restarted, the loop sends the directory listing in its init line: Orbax resumes from the directory.

    python3 examples/python/orbax_loop.py --dir /tmp/orbax-run --steps 12
"""
import argparse
import json
import os
import shutil
import sys
import time

from ckpt_dialect import DialectSidecar, write_atomically

OPTIONS = {"save_interval_steps": 2, "max_to_keep": 2, "best_fn": {"metric": "loss"}, "best_mode": "min", "enable_async_checkpointing": False}


def listing(root):
    """The entries under root as the dialect's `start` reads them (Orbax's resume)."""
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel == ".":
            continue
        entry = {"path": rel, "kind": "dir", "files": sorted(filenames)}
        if "metrics.json" in filenames:
            with open(os.path.join(dirpath, "metrics.json")) as f:
                entry["metrics"] = json.load(f)
        entries.append(entry)
    return entries


def carry_out(root, ops, params, metrics):
    for op in ops:
        path = os.path.join(root, op["path"])
        if op["op"] == "save":
            write_atomically(os.path.join(path, "params.json"), params)
            if metrics is not None:
                write_atomically(os.path.join(path, "metrics.json"), metrics)
        elif op["op"] == "commit":
            write_atomically(os.path.join(path, "_CHECKPOINT_METADATA"), {"commit_time": time.time()})
        elif op["op"] == "rename":
            os.replace(path, os.path.join(root, op["to"]))
        elif op["op"] == "remove":
            shutil.rmtree(path, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="the root: the manager's directory is ROOT/ckpt")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--transcript", default=None)
    args = ap.parse_args()
    root = os.path.abspath(args.dir)
    os.makedirs(root, exist_ok=True)
    sidecar = DialectSidecar("orbax", args.transcript)
    t = 1_700_000_000.0  # a fixed clock, so that reruns are reproducible
    start = sidecar.send({"type": "init", "options": OPTIONS, "t": t, "entries": listing(root), "root": root})
    carry_out(root, start["output"]["ops"], None, None)
    first = max(start["output"]["kept"], default=-1) + 1
    params = {"w": 1.0}
    for step in range(first, first + args.steps):
        params["w"] *= 0.9
        loss = abs(params["w"] - 0.3) + (0.2 if step % 3 == 0 else 0.0)
        t += 1.0
        metrics = {"loss": loss}
        out = sidecar.send({"call": "save", "step": step, "t": t, "metrics": metrics})["output"]
        if "error" in out:
            raise RuntimeError(f"{out['error']['type']}: {out['error']['message']}")
        carry_out(root, out["ops"], params, metrics)
    t += 1.0
    sidecar.send({"call": "wait_until_finished", "t": t})
    best = sidecar.send({"call": "best_step", "t": t + 1})["output"]["result"]
    kept = sidecar.send({"call": "close", "t": t + 2})["output"]["kept"]
    sidecar.close()
    print(json.dumps({"best_step": best, "kept": kept, "folders": sorted(os.listdir(os.path.join(root, "ckpt")))}))


if __name__ == "__main__":
    sys.exit(main())
