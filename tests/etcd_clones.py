"""Two clones of one repository, each with its own HOME: two machines sharing one etcd cluster.

    with two_clones(tmp_path, cluster.url) as (a, b):   # conftest.Repo objects
        a.ok("lock", "src/app.py")

The origin commits `.claude/agent-sync.json` naming the cluster, so both clones
land in one namespace (its root commit) without further setup. On exit every
cache watcher the clones started is stopped, by the pid it wrote.
"""

import contextlib
import json
import os
import signal
import subprocess
import time

from conftest import Repo, clean_env

WATCHER_PID = (".claude", "coordination", "etcd.watcher")


def make_origin(path, home, url, namespace=None):
    env = clean_env(home, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                    GIT_COMMITTER_EMAIL="t@e")
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    (path / ".claude").mkdir()
    doc = {"backend": url}
    if namespace:
        doc["namespace"] = namespace
    (path / ".claude" / "agent-sync.json").write_text(json.dumps(doc), encoding="utf-8")
    (path / ".gitignore").write_text(".claude/coordination/\n", encoding="utf-8")
    (path / "src").mkdir()
    (path / "src" / "app.py").write_text("print('hi')\n", encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "first"], cwd=path, check=True, env=env)
    return env


def clone(tmp_path, origin, name):
    home = tmp_path / f"home-{name}"
    home.mkdir()
    path = tmp_path / name
    subprocess.run(["git", "clone", "-q", str(origin), str(path)], check=True, env=clean_env(home))
    repo = Repo(path, home)
    repo.env = {"AGENT_SYNC_WATCHER_IDLE": "30s"}
    return repo


def stop_watchers(*repos):
    for repo in repos:
        pid_file = repo.path.joinpath(*WATCHER_PID)
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def two_clones(tmp_path, url, namespace=None, names=("a", "b")):
    origin = tmp_path / "origin"
    home = tmp_path / "home-origin"
    home.mkdir()
    make_origin(origin, home, url, namespace)
    repos = [clone(tmp_path, origin, n) for n in names]
    try:
        yield repos
    finally:
        stop_watchers(*repos)


def wait_for(predicate, timeout=5.0, step=0.02):
    """Poll until predicate() is truthy; return its value (or the last falsy one at the deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
