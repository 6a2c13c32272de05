"""Choosing the backend: the committed file, AGENT_SYNC_BACKEND, the namespace, and clear errors.

Black-box through the archive; the cluster is a real etcd (tests/etcd_cluster.py).
"""

import json
import subprocess

from etcd_clones import two_clones
from etcd_fixtures import etcd, etcd3  # noqa: F401


def write_config(repo, doc):
    folder = repo.path / ".claude"
    folder.mkdir(exist_ok=True)
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (folder / "agent-sync.json").write_text(text, encoding="utf-8")


def one_line_error(result, code, *words):
    assert result.code == code, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("agent-sync: "), result.err
    for word in words:
        assert word in lines[0], result.err


def test_sqlite_is_the_default_and_status_names_it(repo):
    doc = repo.json("status")
    assert doc["backend"]["kind"] == "sqlite"
    assert doc["backend"]["location"].endswith("state.sqlite")


def test_bad_config_files_are_one_line_usage_errors(repo):
    cases = [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"backend": 5}, "must be a string"),
        ({"backend": "http://10.0.0.5:2379"}, "etcd://"),
        ({"backend": "etcd://user:pw@10.0.0.5:2379"}, "AGENT_SYNC_ETCD_USER"),
        ({"backend": "etcd://10.0.0.5:99999"}, "bad port"),
        ({"backend": "etcd://"}, "names no member"),
        ({"backend": "etcd://h:2379", "namespace": "a/b"}, "namespace"),
        ({"backend": "etcd://h:2379", "colour": "red"}, "unknown setting 'colour'"),
    ]
    for doc, words in cases:
        write_config(repo, doc)
        one_line_error(repo.run("lock", "a.txt"), 2, ".claude/agent-sync.json", words)
        one_line_error(repo.run("status", "--json"), 2, words)
    assert not repo.db.exists()  # a broken config never falls back to a local database silently


def test_environment_overrides_the_file(repo):
    write_config(repo, {"backend": "etcd://127.0.0.1:1"})
    doc = repo.json("status", env={"AGENT_SYNC_BACKEND": "sqlite"})
    assert doc["backend"]["kind"] == "sqlite"
    one_line_error(repo.run("status", env={"AGENT_SYNC_BACKEND": "redis://x"}), 2, "AGENT_SYNC_BACKEND")


def test_a_repository_without_a_commit_needs_a_namespace(repo, etcd):  # noqa: F811
    write_config(repo, {"backend": etcd.url})
    one_line_error(repo.run("remote", "status"), 2, "first commit", "namespace")
    write_config(repo, {"backend": etcd.url, "namespace": "team-a"})
    doc = repo.json("remote", "status")
    assert doc["namespace"] == "team-a"


def test_every_clone_lands_in_the_root_commit_namespace(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url) as (a, b):
        root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=a.path, capture_output=True,
                              text=True, check=True).stdout.strip()
        da, db = a.json("remote", "status"), b.json("remote", "status")
        assert da["namespace"] == db["namespace"] == root
        assert da["backend"] == etcd.url and da["source"] == ".claude/agent-sync.json"


def test_remote_status_shows_members_leader_and_revision(tmp_path, etcd3):  # noqa: F811
    with two_clones(tmp_path, etcd3.url, namespace="ns1", names=("a",)) as (a,):
        doc = a.json("remote", "status")
        assert len(doc["members"]) == 3 and all(m["ok"] for m in doc["members"])
        assert sum(m["leader"] for m in doc["members"]) == 1
        assert doc["leader"] == next(m["name"] for m in doc["members"] if m["leader"])
        assert doc["revision"] >= 1 and doc["agree"]
        text = a.ok("remote", "status").out
        assert "leader" in text and "revision" in text and "cache" in text
        victim = etcd3.kill_leader()
        etcd3.wait_healthy()
        doc = a.json("remote", "status")
        down = [m for m in doc["members"] if not m["ok"]]
        assert [m["endpoint"] for m in down] == ["%s:%d" % victim.endpoint] and doc["leader"] and doc["agree"]


def test_remote_status_with_the_engine_down_is_busy(repo):
    write_config(repo, {"backend": "etcd://127.0.0.1:9", "namespace": "t"})
    result = repo.run("remote", "status")
    assert result.code == 5, result
    assert "DOWN" in result.out


def test_remote_on_sqlite_says_how_to_configure(repo):
    one_line_error(repo.run("remote", "status"), 2, "SQLite", "AGENT_SYNC_BACKEND")
def test_unreachable_engine_fails_writes_in_bounded_time_with_the_busy_code(repo):
    write_config(repo, {"backend": "etcd://127.0.0.1:9", "namespace": "t"})
    import time

    started = time.monotonic()
    result = repo.run("lock", "a.txt", env={"AGENT_SYNC_BUSY_TIMEOUT": "2s"})
    elapsed = time.monotonic() - started
    one_line_error(result, 5, "etcd")
    assert elapsed < 2 + 2.5, elapsed  # the bound, plus interpreter start on a loaded machine




def test_doctor_on_etcd_checks_the_cluster_and_never_makes_a_local_database(tmp_path, etcd):  # noqa: F811
    with two_clones(tmp_path, etcd.url, names=("a",)) as (a,):
        a.ok("status")
        result = a.run("doctor", "--repair")
        assert result.code == 0, result
        assert "members answer" in result.out and "namespace" in result.out and "cache" in result.out
        assert "--repair rebuilds a local SQLite file" in result.out
        assert not a.db.exists()
        etcd.stop(remove=False)
        result = a.run("doctor")
        assert result.code == 7 and "no member" in result.out, result
