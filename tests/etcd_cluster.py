"""Real etcd clusters for tests and benchmarks: one member or three, on free 127.0.0.1 ports.

Each member is the system's etcd (Debian's etcd-server: /usr/bin/etcd, or
$AGENT_SYNC_TEST_ETCD) in its own temporary data dir (on tmpfs when there is
one, or $AGENT_SYNC_TEST_ETCD_DIR), with short raft timers
so a cluster is up in a fraction of a second and elects a new leader within
about a second. Optional: TLS on the client port (a throwaway CA made with the
openssl command) and auth (a root user, and a user whose role may only touch
keys under AUTH_PREFIX).

    with Cluster(3) as cluster:          # started and healthy, always stopped
        cluster.url                      # "etcd://127.0.0.1:p1,127.0.0.1:p2,..."
        old = cluster.kill_leader()      # SIGKILL; returns the member
        cluster.wait_healthy()           # a new leader, agreed by every live member
        cluster.restart(old)

This module talks to etcd with urllib, not with agent-sync's client, so the
client under test never checks itself. Nothing is skipped: a missing or
failing etcd raises EtcdUnavailable, which fails the test.
"""

import atexit
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HEARTBEAT_MS = 50
ELECTION_MS = 500  # followers notice a dead leader after 0.5-1 s; 10 heartbeats, as etcd advises
START_TIMEOUT = 20.0
ROOT_USER, ROOT_PASSWORD = "root", "root-test-password"
AUTH_USER, AUTH_PASSWORD = "agent", "agent-test-password"
AUTH_PREFIX = "agent-sync/"  # the only keys AUTH_USER's role may read and write

_RUNNING = set()  # every live etcd process, killed at interpreter exit whatever happened


class EtcdUnavailable(RuntimeError):
    """etcd is not installed, or a member would not start or become healthy."""


def etcd_binary():
    path = os.environ.get("AGENT_SYNC_TEST_ETCD") or shutil.which("etcd") or "/usr/bin/etcd"
    if not os.path.isfile(path):
        raise EtcdUnavailable(f"etcd not found ({path}); install it: apt-get install -y etcd-server")
    return path


def scratch_root():
    """Where data dirs go: tmpfs when there is one, so fsync stalls on a busy disk never slow a test."""
    chosen = os.environ.get("AGENT_SYNC_TEST_ETCD_DIR")
    if chosen:
        return chosen
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        return "/dev/shm"
    return None


def free_ports(count):
    """`count` distinct free loopback ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _die_with_parent():
    """Linux: the member gets SIGKILL if the test process dies without cleaning up."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@atexit.register
def _kill_leftovers():
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _RUNNING.clear()


def _b64(text):
    return base64.b64encode(text.encode()).decode()


def make_tls_files(folder):
    """(ca.crt, server.crt, server.key) for 127.0.0.1 and localhost, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise EtcdUnavailable("the openssl command is needed to make test certificates (Python's ssl cannot)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt, ext = folder / "server.key", folder / "server.csr", folder / "server.crt", folder / "server.ext"
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        proc = subprocess.run([openssl, *args], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise EtcdUnavailable(f"openssl {args[0]} failed: {proc.stderr.strip()}")

    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca_crt), "-days", "2",
        "-subj", "/CN=agent-sync test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash")
    run("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(crt), "-days", "2", "-extfile", str(ext))
    return ca_crt, crt, key


class Member:
    """One etcd process; its data dir survives kill() so restart() brings the same member back."""

    def __init__(self, cluster, name, client_port, peer_port):
        self.cluster, self.name = cluster, name
        self.client_port, self.peer_port = client_port, peer_port
        self.data_dir = cluster.base / name
        self.log_path = cluster.base / f"{name}.log"
        self.proc = None
        self.member_id = None  # learnt from its first status answer

    @property
    def endpoint(self):
        return ("127.0.0.1", self.client_port)

    @property
    def client_url(self):
        return f"{self.cluster.client_scheme}://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self):
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def argv(self):
        c = self.cluster
        args = [etcd_binary(), "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", c.initial_cluster, "--initial-cluster-token", c.token,
                "--initial-cluster-state", "new",
                "--heartbeat-interval", str(c.heartbeat_ms), "--election-timeout", str(c.election_ms),
                "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
                "--bcrypt-cost", "4",  # the minimum: logging in stays fast
                "--auth-token-ttl", str(c.auth_token_ttl)]
        if c.tls:
            args += ["--cert-file", str(c.tls_files[1]), "--key-file", str(c.tls_files[2])]
        if c.progress_interval:
            args += ["--experimental-watch-progress-notify-interval", c.progress_interval]
        return args + list(c.extra_args)

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        finally:
            log.close()
        _RUNNING.add(self.proc)

    def kill(self, sig=signal.SIGKILL):
        """Send `sig` (SIGKILL by default) and wait for the process to end."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _RUNNING.discard(self.proc)

    def stop(self):
        """A graceful stop (SIGTERM), then SIGKILL if it lingers."""
        self.kill(signal.SIGTERM)

    def log_tail(self, lines=15):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def status(self, timeout=1.0):
        """The member's /v3/maintenance/status answer, or None if it does not answer."""
        try:
            reply = self.cluster.post(self, "maintenance/status", {}, timeout=timeout)
        except (OSError, ValueError, urllib.error.URLError):
            return None
        self.member_id = reply.get("header", {}).get("member_id", self.member_id)
        return reply


class Cluster:
    """`size` members on loopback; a context manager that always stops them."""

    def __init__(self, size=1, base_dir=None, tls=False, auth=False, progress_interval=None,
                 heartbeat_ms=HEARTBEAT_MS, election_ms=ELECTION_MS, auth_token_ttl=300, extra_args=(),
                 on_disk=False):
        self.size, self.tls, self.auth = size, tls, auth
        self.progress_interval = progress_interval  # e.g. "200ms": how often watches hear progress notices
        self.heartbeat_ms, self.election_ms = heartbeat_ms, election_ms
        self.auth_token_ttl, self.extra_args = auth_token_ttl, extra_args
        self._own_base = base_dir is None
        if base_dir is None:  # on_disk: the system's temporary folder (what a real disk costs, for benchmarks)
            base_dir = tempfile.mkdtemp(prefix="etcd-test-", dir=None if on_disk else scratch_root())
        self.base = Path(base_dir)
        self.base.mkdir(parents=True, exist_ok=True)
        self.token = f"agent-sync-test-{os.getpid()}-{id(self)}"
        self.tls_files = make_tls_files(self.base / "tls") if tls else None
        self.members = []
        self.started_in = None  # seconds from the first spawn to healthy

    # -- addresses and client settings ---------------------------------------

    @property
    def client_scheme(self):
        return "https" if self.tls else "http"

    @property
    def initial_cluster(self):
        return ",".join(f"{m.name}={m.peer_url}" for m in self.members)

    @property
    def endpoints(self):
        return [m.endpoint for m in self.members]

    @property
    def url(self):
        """The backend URL agent-sync takes: etcd:// or etcd+https://."""
        scheme = "etcd+https" if self.tls else "etcd"
        return f"{scheme}://" + ",".join(f"{h}:{p}" for h, p in self.endpoints)

    @property
    def ca_file(self):
        return str(self.tls_files[0]) if self.tls else None

    def client_env(self, user=AUTH_USER, password=AUTH_PASSWORD):
        """The environment variables a client of this cluster needs (CA, credentials)."""
        env = {}
        if self.tls:
            env["AGENT_SYNC_ETCD_CA"] = self.ca_file
        if self.auth and user:
            env.update(AGENT_SYNC_ETCD_USER=user, AGENT_SYNC_ETCD_PASSWORD=password)
        return env

    # -- life cycle --------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT):
        began = time.monotonic()
        for attempt in range(3):
            ports = free_ports(2 * self.size)
            self.members = [Member(self, f"m{i + 1}", ports[2 * i], ports[2 * i + 1]) for i in range(self.size)]
            for member in self.members:
                member.start()
            try:
                self.wait_healthy(timeout)
                break
            except EtcdUnavailable:
                in_use = any("address already in use" in m.log_tail(40) for m in self.members)
                self.stop(remove=False)
                if not in_use or attempt == 2:
                    raise
                for member in self.members:  # another process took a port: start afresh on new ones
                    shutil.rmtree(member.data_dir, ignore_errors=True)
        self.started_in = time.monotonic() - began
        if self.auth:
            self._enable_auth()
        return self

    def stop(self, remove=True):
        for member in self.members:
            member.kill()
        if remove and self._own_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *_exc):
        self.stop()

    def kill(self, member, sig=signal.SIGKILL):
        member.kill(sig)

    def restart(self, member, timeout=START_TIMEOUT):
        """Start a killed member again on its data dir and wait for the whole cluster to agree."""
        member.kill()
        member.start()
        self.wait_healthy(timeout)

    # -- raft state --------------------------------------------------------------

    def live(self):
        return [m for m in self.members if m.alive]

    def leader(self, timeout=START_TIMEOUT):
        """The member every live member names as leader (waits for one)."""
        self.wait_healthy(timeout)
        return self._agreed_leader()

    def _agreed_leader(self):
        statuses = {m.name: m.status() for m in self.live()}
        if not statuses or any(s is None for s in statuses.values()):
            return None
        leaders = {s.get("leader", "0") for s in statuses.values()}
        if len(leaders) != 1 or leaders == {"0"}:
            return None
        (leader_id,) = leaders
        return next((m for m in self.live() if m.member_id == leader_id), None)

    def wait_healthy(self, timeout=START_TIMEOUT):
        """Until every live member answers and names the same live leader (a quorum must be up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [m for m in self.members if m.proc is not None and m.proc.poll() is not None
                    and m.proc in _RUNNING]
            if dead:
                for m in dead:
                    _RUNNING.discard(m.proc)
                raise EtcdUnavailable(f"etcd member {dead[0].name} exited with {dead[0].proc.returncode}:\n"
                                      f"{dead[0].log_tail()}")
            if self._agreed_leader() is not None:
                return
            time.sleep(0.01)
        tails = "\n".join(f"--- {m.name}\n{m.log_tail()}" for m in self.members)
        raise EtcdUnavailable(f"etcd cluster not healthy after {timeout:g}s:\n{tails}")

    def kill_leader(self, sig=signal.SIGKILL):
        """Kill the current leader (SIGKILL by default); returns it."""
        leader = self.leader()
        leader.kill(sig)
        return leader

    # -- raw gateway calls (for setup and checks, independent of the client under test) --

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca_file) if self.tls else None

    def post(self, member, path, payload, token=None, timeout=2.0):
        request = urllib.request.Request(f"{member.client_url}/v3/{path}", data=json.dumps(payload).encode(),
                                         headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", token)
        with urllib.request.urlopen(request, timeout=timeout, context=self.ssl_context()) as reply:
            return json.loads(reply.read())

    def root_token(self):
        leader = self.leader()
        return self.post(leader, "auth/authenticate", {"name": ROOT_USER, "password": ROOT_PASSWORD})["token"]

    def _enable_auth(self):
        member = self.leader()
        steps = [
            ("auth/role/add", {"name": "root"}),
            ("auth/user/add", {"name": ROOT_USER, "password": ROOT_PASSWORD}),
            ("auth/user/grant", {"user": ROOT_USER, "role": "root"}),
            ("auth/role/add", {"name": "agent-sync"}),
            ("auth/role/grant", {"name": "agent-sync", "perm": {
                "permType": "READWRITE", "key": _b64(AUTH_PREFIX), "range_end": _b64(AUTH_PREFIX[:-1] + "0")}}),
            ("auth/user/add", {"name": AUTH_USER, "password": AUTH_PASSWORD}),
            ("auth/user/grant", {"user": AUTH_USER, "role": "agent-sync"}),
            ("auth/enable", {}),
        ]
        for path, payload in steps:
            self.post(member, path, payload)
