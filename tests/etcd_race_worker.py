"""Real processes racing through etcd, for the race tests and the benchmark.

Racers(url, prefix, 16) starts 16 of these workers; racers.round(n) sends
them all "n" at once and returns their answers. A worker is run as

    python etcd_race_worker.py URL PREFIX WORKER_ID

For every line N read on stdin it tries to create PREFIX + "round-N" with a
create-if-absent transaction whose value is its own nonce, and prints one
JSON line: {"round": N, "won": bool, "revision": R, ...} or {"round": N, "error": "..."}.
The failure branch reads the key back: if it holds our nonce, an earlier
attempt of this same call committed and only its reply was lost (the client
retried it on another member), so we did win, at the key's create revision.
"""

import json
import os
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from agent_sync.core.etcd import client as etcd  # noqa: E402


def attempt(cl, key, nonce):
    """(won, revision, won only by the nonce check)."""
    result = cl.txn([etcd.compare(key, "create", "=", 0)], [etcd.op_put(key, nonce)], [etcd.op_range(key)])
    if result.succeeded:
        return True, result.revision, False
    held = result.responses[0].kvs[0]
    mine = held.value == nonce.encode()
    return mine, held.create_revision, mine


def main():
    url, prefix, worker = sys.argv[1], sys.argv[2], sys.argv[3]
    cl = etcd.Client.from_url(url)
    for line in sys.stdin:
        n = int(line)
        nonce = f"{worker}:{n}:{uuid.uuid4().hex}"
        try:
            won, revision, by_nonce = attempt(cl, f"{prefix}round-{n}", nonce)
            out = {"round": n, "won": won, "revision": revision, "nonce": nonce, "by_nonce": by_nonce}
        except etcd.EtcdError as exc:
            out = {"round": n, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


class Racers:
    """`count` worker processes, each with its own client; always stopped by close()."""

    def __init__(self, url, prefix, count=16, env=None):
        merged = dict(os.environ, **(env or {}))
        self.procs = []
        try:
            for worker in range(count):
                self.procs.append(subprocess.Popen(
                    [sys.executable, os.path.abspath(__file__), url, prefix, f"w{worker}"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=merged))
        except BaseException:
            self.close()
            raise

    def start_round(self, n):
        for proc in self.procs:  # one write each, so all start within a few microseconds
            proc.stdin.write(f"{n}\n")
            proc.stdin.flush()

    def finish_round(self):
        answers = []
        for proc in self.procs:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"race worker exited with {proc.wait()}")
            answers.append(json.loads(line))
        return answers

    def round(self, n):
        self.start_round(n)
        return self.finish_round()

    def close(self):
        for proc in self.procs:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()


if __name__ == "__main__":
    main()
