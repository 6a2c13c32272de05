"""The etcd client against a real etcd: one member, three members, TLS and auth.

Nothing here is mocked or skipped: without a working etcd every test fails.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from etcd_cluster import AUTH_PREFIX, Cluster, free_ports
from etcd_fixtures import etcd, etcd3, etcd_prefix, etcd_secure, etcd_shared  # noqa: F401
from etcd_race_worker import Racers

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent_sync.core.etcd import client as ec  # noqa: E402


def client_for(cluster, **options):
    return ec.Client.from_url(cluster.url, environ=cluster.client_env(), **options)


@pytest.fixture
def kv(etcd_shared, etcd_prefix):
    """(client, prefix) on the session's shared member."""
    with client_for(etcd_shared) as cl:
        yield cl, etcd_prefix


# ---- key-value ---------------------------------------------------------------------------------


def test_put_and_range_semantics(kv):
    cl, p = kv
    first = cl.put(p + "a", "1")
    second = cl.put(p + "a", "2", prev_kv=True)
    assert second.revision > first.revision
    assert second.prev_kv.value == b"1" and second.prev_kv.mod_revision == first.revision
    assert cl.get(p + "missing") is None

    got = cl.get(p + "a")
    assert (got.key, got.value, got.version) == ((p + "a").encode(), b"2", 2)
    assert (got.create_revision, got.mod_revision) == (first.revision, second.revision)
    assert cl.get(p + "a", revision=first.revision).value == b"1"  # an older revision of the store

    cl.put(p + "b", b"\x00\xff binary")
    cl.put(p + "c", "")
    cl.put(p[:-1] + "0", "outside the prefix")
    whole = cl.range(p, prefix=True)
    assert [kv.key for kv in whole.kvs] == [(p + k).encode() for k in "abc"] and whole.count == 3
    assert whole.kvs[1].value == b"\x00\xff binary" and whole.kvs[2].value == b""
    assert cl.range(p, prefix=True, count_only=True).kvs == [] and cl.range(p, prefix=True, count_only=True).count == 3
    assert all(kv.value == b"" for kv in cl.range(p, prefix=True, keys_only=True).kvs)
    limited = cl.range(p, prefix=True, limit=2)
    assert len(limited.kvs) == 2 and limited.more and limited.count == 3
    newest_first = cl.range(p, prefix=True, sort=("mod", "descend"))
    assert [kv.key for kv in newest_first.kvs] == [(p + k).encode() for k in "cba"]
    assert [kv.key for kv in cl.range(p, prefix=True, min_mod_revision=second.revision + 1).kvs] == \
        [(p + "b").encode(), (p + "c").encode()]

    gone = cl.delete(p, prefix=True, prev_kv=True)
    assert gone.deleted == 3 and sorted(kv.value for kv in gone.prev_kvs) == [b"", b"\x00\xff binary", b"2"]
    assert cl.range(p, prefix=True).count == 0
    assert cl.get(p[:-1] + "0").value == b"outside the prefix"


def test_txn_compares_and_branches(kv):
    cl, p = kv
    key = p + "lock"
    made = cl.txn([ec.compare(key, "create", "=", 0)], [ec.op_put(key, "me")], [ec.op_range(key)])
    assert made.succeeded and made.revision == cl.get(key).create_revision
    again = cl.txn([ec.compare(key, "create", "=", 0)], [ec.op_put(key, "you")], [ec.op_range(key)])
    assert not again.succeeded and again.responses[0].kvs[0].value == b"me"  # the failure branch read
    with pytest.raises(ec.TxnConflict) as raised:
        cl.txn([ec.compare(key, "version", "=", 0)], [ec.op_put(key, "you")], require=True)
    assert raised.value.result.succeeded is False
    assert cl.get(key).value == b"me"

    kv1 = cl.get(key)
    for compares, expected in (
        ([ec.compare(key, "value", "=", "me")], True),
        ([ec.compare(key, "value", "!=", "me")], False),
        ([ec.compare(key, "version", "=", 1)], True),
        ([ec.compare(key, "mod", "=", kv1.mod_revision)], True),
        ([ec.compare(key, "mod", "<", kv1.mod_revision)], False),
        ([ec.compare(key, "create", ">", 0), ec.compare(key, "lease", "=", 0)], True),
        ([ec.compare(key, "create", ">", 0), ec.compare(key, "value", "=", "x")], False),  # all must hold
    ):
        assert cl.txn(compares).succeeded is expected, compares

    # Nested: the success branch runs a transaction of its own, with ranges inside. Every compare,
    # nested ones too, sees the store as it was before the transaction; reads see its own writes.
    count = ec.op_range(p, prefix=True, count_only=True)
    nested = cl.txn([ec.compare(key, "value", "=", "me")], [
        ec.op_put(p + "counter", "1"),
        ec.op_txn([ec.compare(p + "counter", "version", ">", 0)], [ec.op_put(p + "never", "x")], [count]),
        ec.op_delete(key, prev_kv=True),
    ])
    assert nested.succeeded
    inner = nested.responses[1]
    assert isinstance(inner, ec.TxnResult) and not inner.succeeded and inner.responses[0].count == 2
    assert cl.get(p + "never") is None
    assert nested.responses[2].deleted == 1 and nested.responses[2].prev_kvs[0].value == b"me"
    assert cl.get(key) is None


def test_range_compare_catches_any_change_under_a_prefix(kv):
    """The glob-lock rule: commit only if no key under the locks prefix changed since the read."""
    cl, p = kv
    cl.put(p + "locks/a", "1")
    seen = cl.range(p + "locks/", prefix=True)
    unchanged = [ec.compare(p + "locks/", "mod", "<", seen.revision + 1, prefix=True)]
    assert cl.txn(unchanged).succeeded
    cl.put(p + "locks/b", "someone else's new lock")
    assert not cl.txn(unchanged).succeeded
    empty = [ec.compare(p + "nothing/", "mod", "<", 1, prefix=True)]
    assert cl.txn(empty).succeeded  # an empty range compares as one absent key


def test_compacted_revision_is_a_clear_error(kv):
    cl, p = kv
    old = cl.put(p + "k", "1").revision
    now = cl.put(p + "k", "2").revision
    cl.compact(now)
    with pytest.raises(ec.Compacted):
        cl.get(p + "k", revision=old)
    with cl.watch(p, prefix=True, start_revision=old) as watch:
        with pytest.raises(ec.Compacted) as raised:
            watch.get(3)
    assert raised.value.compact_revision >= now


# ---- leases -------------------------------------------------------------------------------------


def test_lease_expiry_deletes_its_keys(kv):
    cl, p = kv
    lease = cl.lease_grant(1)
    assert lease.id and lease.ttl >= 1
    cl.put(p + "held", "x", lease=lease.id)
    assert cl.get(p + "held").lease == lease.id
    assert cl.lease_time_to_live(lease.id, keys=True).keys == [(p + "held").encode()]
    before = cl.range(p, prefix=True)
    assert cl.lease_keepalive(lease.id) >= 1
    # A keepalive rewrites nothing: the lock-prefix compare the design relies on still holds.
    assert cl.get(p + "held").mod_revision == before.kvs[0].mod_revision
    assert cl.txn([ec.compare(p, "mod", "<", before.revision + 1, prefix=True)]).succeeded
    deadline = time.monotonic() + 6
    while cl.get(p + "held") is not None:
        assert time.monotonic() < deadline, "the lease's key outlived its TTL"
        time.sleep(0.05)
    with pytest.raises(ec.LeaseNotFound):
        cl.lease_keepalive(lease.id)
    with pytest.raises(ec.LeaseNotFound):
        cl.lease_time_to_live(lease.id)
    with pytest.raises(ec.LeaseNotFound):
        cl.put(p + "late", "x", lease=lease.id)

    revoked = cl.lease_grant(30)
    cl.put(p + "r", "x", lease=revoked.id)
    cl.lease_revoke(revoked.id)
    assert cl.get(p + "r") is None  # revoking deletes at once
    with pytest.raises(ec.LeaseNotFound):
        cl.lease_revoke(revoked.id)


# ---- watch --------------------------------------------------------------------------------------


def _drain(watch, expected, timeout=10):
    seen = []
    deadline = time.monotonic() + timeout
    while len(seen) < expected and time.monotonic() < deadline:
        batch = watch.get(1)
        if batch is not None:
            seen.extend((e.type, e.kv.key, e.kv.mod_revision, e.kv.value) for e in batch.events)
    return seen


def test_watch_from_a_revision_sees_every_event_in_order_and_resumes_after_a_cut(kv):
    cl, p = kv
    start = cl.put(p + "first", "0").revision
    expected = [("PUT", (p + "first").encode(), start, b"0")]
    live, seen = set(), []
    with cl.watch(p, prefix=True, start_revision=start) as watch:
        for i in range(60):
            if i in (20, 40):
                seen += _drain(watch, len(expected) - len(seen))  # everything buffered is read...
                watch._conn.sock.shutdown(socket.SHUT_RDWR)  # ...then the stream is cut under the watch
            key = f"{p}k{i % 7}"
            if key in live and i % 3 == 0:
                expected.append(("DELETE", key.encode(), cl.delete(key).revision, b""))
                live.discard(key)
            else:
                expected.append(("PUT", key.encode(), cl.put(key, str(i)).revision, str(i).encode()))
                live.add(key)
        cl.put(p[:-1] + "0", "outside")  # not under the prefix: never delivered
        seen += _drain(watch, len(expected) - len(seen))
        assert watch.reconnects == 2
        assert watch.get(0.3) is None  # nothing more, nothing repeated
    assert seen == expected
    assert any(kind == "DELETE" for kind, *_rest in expected)
    with cl.watch(p, prefix=True, start_revision=start) as again:  # a fresh watch replays the same history
        assert _drain(again, len(expected)) == expected


def test_watch_hears_progress_on_an_idle_range():
    with Cluster(1, progress_interval="200ms") as cluster, client_for(cluster) as cl:
        with cl.watch("idle/", prefix=True, start_revision=cl.put("x", "1").revision + 1) as watch:
            busy = cl.put("elsewhere", "2").revision
            deadline = time.monotonic() + 5
            batch = None
            while batch is None or batch.events or batch.revision < busy:
                assert time.monotonic() < deadline, "no progress notice within 5 s"
                batch = watch.get(1)
            assert watch.next_revision == batch.revision + 1 and watch.last_heard is not None


# ---- races of real processes -----------------------------------------------------------------------


def _race(cluster, prefix, rounds, during=None):
    """Run `rounds` create-if-absent rounds among 16 processes; `during(n)` runs after round n starts."""
    winners = []
    with Racers(cluster.url, prefix, 16, env=cluster.client_env()) as racers:
        for n in range(rounds):
            racers.start_round(n)
            if during is not None:
                during(n)
            answers = racers.finish_round()
            errors = [a["error"] for a in answers if "error" in a]
            assert not errors, f"round {n}: {errors}"
            won = [a for a in answers if a["won"]]
            assert len(won) == 1, f"round {n}: {len(won)} winners: {won}"
            winners.append(won[0])
    revisions = [w["revision"] for w in winners]
    assert revisions == sorted(set(revisions)), "winning revisions must rise strictly"
    with client_for(cluster) as cl:
        for n, winner in enumerate(winners):
            assert cl.get(f"{prefix}round-{n}").value == winner["nonce"].encode()
    return winners


def test_one_winner_among_16_processes_for_50_rounds(etcd):
    _race(etcd, "race/", 50)


def test_leader_killed_during_a_16_process_race(etcd3):
    killed = []

    def chaos(n):  # runs just after round n started
        if n == 7:
            killed.append(etcd3.leader())  # found a round early, so the kill lands while round 8 runs
        if n == 8:
            killed[0].kill()
        if n == 24:
            etcd3.restart(killed[0])

    old_term = max(int(m.status()["raftTerm"]) for m in etcd3.live())
    began = time.monotonic()
    winners = _race(etcd3, "failover/", 36, chaos)
    assert len(winners) == 36 and killed
    with client_for(etcd3) as cl:
        statuses = [s for _e, s in cl.statuses()]
        assert all(isinstance(s, ec.Status) for s in statuses), statuses
        assert sum(s.is_leader for s in statuses) == 1 and min(s.raft_term for s in statuses) > old_term
    assert time.monotonic() - began < 30


# ---- failover and bounded failure ----------------------------------------------------------------


def test_failover_moves_to_a_live_member_and_prefers_it(etcd3):
    with client_for(etcd3) as cl:
        cl.put("a", "1")
        first = cl.preferred
        victim = next(m for m in etcd3.members if m.endpoint == first)
        victim.kill()
        etcd3.wait_healthy()
        assert cl.get("a").value == b"1"
        assert cl.preferred != first
        moved = cl.preferred
        cl.put("b", "2")
        assert cl.preferred == moved  # the member that answered stays first in line


def test_watch_resumes_on_another_member_when_its_member_dies(etcd3):
    with client_for(etcd3) as cl, client_for(etcd3) as writer:
        start = writer.put("w/0", "0").revision
        with cl.watch("w/", prefix=True, start_revision=start) as watch:
            assert len(_drain(watch, 1)) == 1
            watched = next(m for m in etcd3.members if m.endpoint == cl.endpoints[watch._index])
            revisions = [start]
            for i in range(1, 30):
                if i == 10:
                    watched.kill()
                revisions.append(writer.put(f"w/{i}", str(i)).revision)
            seen = _drain(watch, 29)
        assert [e[2] for e in seen] == revisions[1:]
        assert watch.reconnects >= 1


def test_unreachable_members_fail_within_the_bound():
    dead = [("127.0.0.1", port) for port in free_ports(3)]
    with ec.Client(dead, timeout=1.0) as cl:
        began = time.monotonic()
        with pytest.raises(ec.Unreachable) as raised:
            cl.put("k", "v")
        took = time.monotonic() - began
    assert 0.9 < took < 2.0, took
    assert all(str(port) in str(raised.value) for _h, port in dead)


def test_a_cluster_without_quorum_times_out_within_the_bound(etcd3):
    with client_for(etcd3, timeout=1.5) as cl:
        cl.put("k", "v")
        for member in etcd3.members[:2]:
            member.kill()
        began = time.monotonic()
        with pytest.raises(ec.Timeout):
            cl.put("k", "w")
        assert time.monotonic() - began < 2.5


def test_members_and_status(etcd3):
    with client_for(etcd3) as cl:
        members = cl.members()
        assert sorted(m.name for m in members) == ["m1", "m2", "m3"]
        assert sorted(m.client_urls[0] for m in members) == sorted(m.client_url for m in etcd3.members)
        revision = cl.put("s", "1").revision
        statuses = [s for _e, s in cl.statuses()]
        assert sum(s.is_leader for s in statuses) == 1
        assert {s.leader for s in statuses} == {next(s.member_id for s in statuses if s.is_leader)}
        assert all(s.revision >= revision and s.db_size > 0 and s.version.startswith("3.") for s in statuses)
        etcd3.members[0].kill()
        after = cl.statuses(timeout=0.5)
        assert isinstance(after[0][1], ec.Unreachable) and all(isinstance(s, ec.Status) for _e, s in after[1:])


# ---- TLS and auth --------------------------------------------------------------------------------


def test_tls_and_auth(etcd_secure):
    cluster = etcd_secure
    key = AUTH_PREFIX + "k"
    with client_for(cluster) as cl:
        cl.put(key, "secret")
        assert cl.get(key).value == b"secret"
        token = cl._token
        assert token
        with pytest.raises(ec.PermissionDenied):
            cl.put("outside/k", "x")  # the role covers AUTH_PREFIX only
        with cl.watch(AUTH_PREFIX, prefix=True, start_revision=1) as watch:
            assert [e[1] for e in _drain(watch, 1)] == [key.encode()]

        time.sleep(2.2)  # an idle token expires (etcd_secure runs --auth-token-ttl 1, checked each second)
        with cl.watch(AUTH_PREFIX, prefix=True, start_revision=1) as watch:  # refused, logs in, reopens
            assert [e[1] for e in _drain(watch, 1)] == [key.encode()]
        assert cl._token and cl._token != token
        time.sleep(2.2)
        assert cl.get(key).value == b"secret"  # a short call logs in again by itself too
        cl._token = "forged.1"
        assert cl.get(key).value == b"secret"
        assert cl._token != "forged.1"

    env = cluster.client_env()
    for changes, error in (
        ({"AGENT_SYNC_ETCD_PASSWORD": "wrong"}, ec.AuthFailed),
        ({"AGENT_SYNC_ETCD_USER": "", "AGENT_SYNC_ETCD_PASSWORD": ""}, ec.AuthFailed),
        ({"AGENT_SYNC_ETCD_CA": ""}, ec.ConfigError),  # the system store does not trust the test CA
        ({"AGENT_SYNC_ETCD_CA": "/nonexistent/ca.crt"}, ec.ConfigError),
    ):
        with ec.Client.from_url(cluster.url, environ=dict(env, **changes), timeout=2) as bad:
            with pytest.raises(error):
                bad.get(key)
    with ec.Client.from_url(cluster.url.replace("etcd+https", "etcd"), environ=env, timeout=1) as plain:
        with pytest.raises(ec.Timeout) as raised:
            plain.get(key)
        assert "etcd+https://" in str(raised.value)


def test_tls_client_against_a_plain_member_says_so(etcd_shared):
    url = etcd_shared.url.replace("etcd://", "etcd+https://")
    with ec.Client.from_url(url, environ={}, timeout=1) as cl:
        with pytest.raises((ec.Timeout, ec.Unreachable)) as raised:
            cl.get("k")
    assert "etcd://" in str(raised.value)


# ---- URLs and import cost -------------------------------------------------------------------------


def test_backend_urls():
    assert ec.parse_url("etcd://10.0.0.5:2379,10.0.0.6:2379") == (False, [("10.0.0.5", 2379), ("10.0.0.6", 2379)])
    assert ec.parse_url("etcd+https://db.example,[::1]:2400/") == (True, [("db.example", 2379), ("::1", 2400)])
    for bad in ("http://h:2379", "etcd://", "etcd://h:0", "etcd://h:x", "etcd://user:pw@h:2379",
                "etcd://h:2379/path", "etcd://::1:2379", "sqlite"):
        with pytest.raises(ec.ConfigError):
            ec.parse_url(bad)


def test_import_is_light_and_plain_http_never_loads_ssl(etcd_shared):
    """The CLI imports the client: binascii, json and socket wait for the first request; ssl waits for
    etcd+https://, and http.client (35 ms) never comes."""
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import agent_sync.core.etcd.client as c;"
        "heavy = ('binascii', 'json', 'socket', 'ssl', 'http.client', 'email');"
        "print(sorted(m for m in heavy if m in sys.modules));"
        "c.Client.from_url(sys.argv[2], environ={}).put('import-probe', 'x');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(ROOT), etcd_shared.url],
                         capture_output=True, text=True, timeout=30, check=True).stdout.splitlines()
    assert out == ["[]", "['binascii', 'json', 'socket']"]


def test_stream_errors_and_unknown_leases_are_clear(kv):
    cl, _p = kv
    with pytest.raises(ec.LeaseNotFound):
        cl.lease_keepalive(123456789)
    with pytest.raises(ec.RequestError):
        cl.get("k", revision=10 ** 12)  # a future revision


def test_many_sequential_calls_reuse_one_connection(kv, etcd_shared):
    cl, p = kv
    for i in range(50):
        cl.put(p + "n", str(i))
    conn = cl.connection(0)
    assert conn.served >= 50  # one kept-alive socket served them all


# ---- the HTTP/1.1 framing, byte by byte ---------------------------------------------------------


def _serve_once(reply, pause_at=None):
    """A one-shot loopback server that sends `reply` one byte at a time (pausing 0.3 s at `pause_at`)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run():
        conn, _addr = listener.accept()
        with conn:
            conn.recv(65536)
            for i in range(len(reply)):
                if i == pause_at:
                    time.sleep(0.3)
                conn.sendall(reply[i:i + 1])
            time.sleep(0.2)
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return port


def test_http11_reads_replies_split_anywhere_and_resumes_after_a_timeout():
    from agent_sync.core.etcd.http11 import Connection

    body = b'{"result":{"n":1}}\n{"result":{"n":2}}\n'
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
               b"5\r\n" + body[:5] + b"\r\n" + f"{len(body) - 5:x};ext=1\r\n".encode() + body[5:] + b"\r\n"
               b"0\r\nX-T: done\r\n\r\n")
    port = _serve_once(chunked, pause_at=chunked.index(b"\r\n\r\n5\r\n") + 9)
    conn = Connection("127.0.0.1", port)
    conn.send("/v3/watch", b"{}", {}, time.monotonic() + 2)
    status, head = conn.read_head(time.monotonic() + 2)
    assert status == 200 and head["transfer-encoding"] == "chunked"
    with pytest.raises(TimeoutError):
        conn.next_chunk(time.monotonic() + 0.1)  # the server pauses inside the first chunk...
    assert conn.next_chunk(time.monotonic() + 2) == body[:5]  # ...and nothing read so far was lost
    assert conn.next_chunk(time.monotonic() + 2) == body[5:]
    assert conn.next_chunk(time.monotonic() + 2) == b""  # the end, trailers consumed
    conn.close()

    for reply, expected in (
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nNot Found\n", (404, b"Not Found\n")),
        (b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\nplain text", (400, b"plain text")),
    ):
        conn = Connection("127.0.0.1", _serve_once(reply))
        status, _head, data = conn.request("/v3/kv/range", b"{}", {}, time.monotonic() + 3)
        assert (status, data) == expected
        conn.close()
