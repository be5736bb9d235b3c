"""A small client for `ckpt serve --stdio --dialect NAME`: one JSON line out, one JSON line back.

Used by keras_loop.py, orbax_loop.py and trainer_loop.py. Standard library only. The command is
`node bin/ckpt.js` (the compiled CLI) unless CKPT_COMMAND holds another as a JSON list.
"""
import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SidecarError(RuntimeError):
    """The sidecar refused a line: `kind` (shape, order, config, ...) and its message."""

    def __init__(self, answer):
        self.kind = answer["error"]["kind"]
        self.raised = answer["error"].get("raised")
        super().__init__(f"sidecar refused line {answer['line']} ({self.kind}): {answer['error']['message']}")


class DialectSidecar:
    def __init__(self, dialect, transcript=None, args=()):
        """`args`: more `ckpt serve` arguments, e.g. ["--store", DIR] (orbax_store_loop.py)."""
        default = [os.environ.get("NODE", "node"), os.path.join(REPO, "bin", "ckpt.js")]
        cmd = json.loads(os.environ["CKPT_COMMAND"]) if "CKPT_COMMAND" in os.environ else default
        self.proc = subprocess.Popen(cmd + ["serve", "--stdio", "--dialect", dialect, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.transcript = open(transcript, "w") if transcript else None

    def send(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sidecar exited (status {self.proc.wait()})")
        answer = json.loads(line)
        if self.transcript:  # what was sent and answered, for checking the decisions afterwards
            self.transcript.write(json.dumps({"sent": message, "answer": answer}) + "\n")
            self.transcript.flush()
        if not answer["ok"]:
            raise SidecarError(answer)
        return answer

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        if self.transcript:
            self.transcript.close()


def write_atomically(path, obj):
    """A crash never leaves a half-written file under a checkpoint's name."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)
