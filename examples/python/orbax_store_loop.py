#!/usr/bin/env python3
"""A JAX-style loop whose CheckpointManager is the sidecar: `ckpt serve --stdio --dialect orbax --store DIR`.

Store mode, beside orbax_loop.py's decide mode: the loop only serialises its state when Orbax's rules
say this step is saved, writes it to a scratch file and sends the path; the sidecar writes the step's
folder in the store (DIR/<step>/params, DIR/<step>/metrics/metrics, then the commit marker
DIR/<step>/_CHECKPOINT_METADATA), deletes what retention removed, and answers with the kept steps.
The file may be removed as soon as `save` answers: the sidecar has taken the bytes (as Orbax copies
the state before an async write). Restarted, the loop continues from the steps committed in DIR.

    python3 examples/python/orbax_store_loop.py --dir /tmp/orbax-store --steps 12
"""
import argparse
import json
import os
import sys
import tempfile

from ckpt_dialect import DialectSidecar

# CheckpointManagerOptions, Orbax's names; async writes are Orbax's default
OPTIONS = {"save_interval_steps": 2, "max_to_keep": 2, "best_fn": {"metric": "loss"}, "best_mode": "min"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="the manager directory (any store location: a folder, s3://bucket/prefix)")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--transcript", default=None)
    args = ap.parse_args()
    sidecar = DialectSidecar("orbax", args.transcript, args=["--store", args.dir])
    kept = sidecar.send({"type": "init", "options": OPTIONS})["kept"]
    scratch = tempfile.mkdtemp(prefix="orbax-loop-")
    params = {"w": 1.0}
    latest = sidecar.send({"call": "latest_step"})["result"]
    if latest is not None:  # a restart: continue from the latest committed step's state
        files = sidecar.send({"call": "restore", "step": latest, "to": os.path.join(scratch, "resume")})["files"]
        with open(files["params"]) as f:
            params = {"w": json.load(f)["w"]}
    first = 0 if latest is None else latest + 1
    for step in range(first, first + args.steps):
        params["w"] *= 0.9
        loss = abs(params["w"] - 0.3) + (0.2 if step % 3 == 0 else 0.0)
        if not sidecar.send({"call": "should_save", "step": step})["result"]:
            continue
        path = os.path.join(scratch, f"params-{step}.json")
        with open(path, "w") as f:  # a real loop: flax.serialization.to_bytes(state)
            json.dump({"step": step, **params}, f)
        saved = sidecar.send({"call": "save", "step": step, "metrics": {"loss": loss}, "items": {"params": path}})
        os.remove(path)
        print(f"step {step}: loss {loss:.4f}, saved {saved['result']}, kept {saved['kept']}", file=sys.stderr)
    sidecar.send({"call": "wait_until_finished"})
    best = sidecar.send({"call": "best_step"})["result"]
    restored = sidecar.send({"call": "restore", "step": best, "to": os.path.join(scratch, "restored")})["files"]
    with open(restored["params"]) as f:
        best_params = json.load(f)
    kept = sidecar.send({"call": "close"})["kept"]
    sidecar.close()
    folders = sorted(f for f in os.listdir(args.dir) if not f.startswith(".")) if os.path.isdir(args.dir) else None
    print(json.dumps({"best_step": best, "best_params": best_params, "kept": kept, "folders": folders}))


if __name__ == "__main__":
    sys.exit(main())
