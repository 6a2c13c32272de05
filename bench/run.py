#!/usr/bin/env python3
"""Hook latency benchmarks for agent-sync (see bench/README.md).

    .venv/bin/python bench/run.py [--runs 40] [--no-upstream] [--no-shiv] [--strict]

Every hook case runs the exact command line the installer writes into
.claude/settings.json (agent_sync.install.command_line.prefix() + event) through
`sh -c`, with CLAUDE_PROJECT_DIR pointing at a scratch repository where
dist/agent-sync.pyz sits at .claude/skills/agent-sync/agent-sync.pyz and a
realistic Claude Code payload on stdin. Each hook run alternates with a run
of the interpreter floor, `python3 -I -S -c pass`, named the same way, so
the ratio compares like with like even while the machine is noisy.

Scratch files go to bench/out/ (gitignored). Nothing here is a test: the
numbers are printed, and only --strict turns a missed target into exit 1.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYZ = ROOT / "dist" / "agent-sync.pyz"
SKILL_PYZ = Path(".claude") / "skills" / "agent-sync" / "agent-sync.pyz"
UPSTREAM = "claude-agent-sync==0.4.0"
sys.path.insert(0, str(ROOT))

from agent_sync.install import archive as packer  # noqa: E402
from agent_sync.install import command_line as hookcommand  # noqa: E402

ALICE = "3f6b2c1e-8a4d-4e0b-9c57-2d1f0a9b7e64"  # the session whose hooks are timed
BOB = "9d2e7a41-5c3b-4f18-a6e0-71b8c4d25f93"    # the other agent, who holds the locks
FIXTURES = ROOT / "tests" / "fixtures" / "claude"
TOOL_VARS = ("AGENT_SYNC_", "CLAUDE_", "PYTHON")


# ---------------------------------------------------------------------------
# Measuring


def base_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(TOOL_VARS)}
    env.update(extra)
    return env


def timed(command, stdin=b"", cwd=None, env=None):
    """Wall seconds of `sh -c command`, and its exit code."""
    start = time.perf_counter()
    proc = subprocess.run(["sh", "-c", command], input=stdin, cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    return elapsed, proc.returncode, proc.stderr


def pair(a, b, runs, a_in=b"", b_in=b"", cwd=None, env=None, warmup=3, a_code=0, b_code=0):
    """Median seconds of commands a and b, run turn about (b first), each exit code checked."""
    def one(command, stdin, expect):
        elapsed, code, err = timed(command, stdin, cwd, env)
        if code != expect:
            raise RuntimeError(f"exit {code} (expected {expect}) from {command}\n"
                               f"{err.decode(errors='replace')[:600]}")
        return elapsed

    for _ in range(warmup):
        one(b, b_in, b_code)
        one(a, a_in, a_code)
    times_a, times_b = [], []
    for _ in range(runs):
        times_b.append(one(b, b_in, b_code))
        times_a.append(one(a, a_in, a_code))
    return statistics.median(times_a), statistics.median(times_b)


def alternate(command, floor, runs, stdin=b"", cwd=None, env=None, expect=0):
    """Median seconds of a hook command and of the interpreter floor, run turn about."""
    return pair(command, floor, runs, a_in=stdin, cwd=cwd, env=env, a_code=expect)


def ms(seconds):
    return f"{seconds * 1000:7.1f}"


# ---------------------------------------------------------------------------
# Scratch repositories


def payload(fixture, repo, **over):
    data = json.loads((FIXTURES / f"{fixture}.json").read_text())
    text = json.dumps(data).replace("/home/dev/project", str(repo))
    data = json.loads(text)
    tool_input = over.pop("tool_input", None)
    data.update(over)
    if tool_input:
        data["tool_input"] = {**data["tool_input"], **tool_input}
    return json.dumps(data).encode()


def new_repo(name):
    path = OUT / "work" / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    (path / SKILL_PYZ).parent.mkdir(parents=True)
    shutil.copyfile(PYZ, path / SKILL_PYZ)
    for sub in ("src", "docs", "gen"):
        (path / sub).mkdir()
    return path


def cli(repo, *args, session=BOB):
    env = base_env(CLAUDE_CODE_SESSION_ID=session)
    proc = subprocess.run([sys.executable, str(repo / SKILL_PYZ), *args], cwd=repo, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"agent-sync {' '.join(args[:3])} failed: {proc.stderr.strip()[:400]}")
    return proc.stdout


def hook_once(repo, event, data, **env):
    """Run one hook the way Claude Code does (for seeding), checking it exits 0."""
    proc = subprocess.run([sys.executable, str(repo / SKILL_PYZ), "hook", event], input=data, cwd=repo,
                          env=base_env(**env), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"hook {event} failed: {proc.stderr.decode(errors='replace').strip()[:400]}")


def leased_repo():
    """50 automatic leases of bob's, taken by one Bash edit's post-tool hook (issue 17)."""
    repo = new_repo("live-leases")
    cli(repo, "register", "--name", "bob")
    files = " ".join(f"src/lease{i:02d}.py" for i in range(50))
    hook_once(repo, "post-tool-use", payload("post_tool_use_bash", repo, session_id=BOB,
                                             tool_input={"command": f"touch {files}"}),
              AGENT_SYNC_AUTO_LEASE="4h")  # outlives the run
    cli(repo, "register", "--name", "alice", session=ALICE)
    leases = json.loads(cli(repo, "locks", "--json"))["locks"]
    if sum(1 for lk in leases if lk["auto_lease"]) != 50:
        raise RuntimeError(f"expected 50 leases, found {len(leases)}")
    return repo


def seeded_repos():
    """live: 50 file locks of bob's; patterns: 200 pattern locks of bob's (issue 7)."""
    live = new_repo("live-locks")
    cli(live, "register", "--name", "bob")
    cli(live, "lock", *[f"src/mod{i:02d}.py" for i in range(50)], "--reason", "bench", "--ttl", "4h")
    cli(live, "register", "--name", "alice", session=ALICE)
    patterns = new_repo("pattern-locks")
    cli(patterns, "register", "--name", "bob")
    cli(patterns, "lock", *[f"gen/part{i:03d}/**/*.json" for i in range(200)], "--reason", "bench", "--ttl", "4h")
    cli(patterns, "register", "--name", "alice", session=ALICE)
    return live, patterns


def hook_cases(live, patterns, leased):
    """(name, repo, event, payload, expected exit, target ratio or None)."""
    edit = lambda repo, rel: payload("pre_tool_use_edit", repo, session_id=ALICE,  # noqa: E731
                                     tool_input={"file_path": str(repo / rel)})
    after = lambda repo, rel: payload("post_tool_use_edit", repo, session_id=ALICE,  # noqa: E731
                                      tool_input={"file_path": str(repo / rel)})
    return [
        ("pre-tool-use Edit, unlocked, 50 live locks", live, "pre-tool-use", edit(live, "src/app.py"), 0, 2.5),
        ("pre-tool-use Edit, unleased, 50 live leases", leased, "pre-tool-use", edit(leased, "src/app.py"), 0, 2.5),
        ("post-tool-use Edit, own lease, 50 live leases", leased, "post-tool-use", after(leased, "src/mine.py"), 0,
         None),
        ("pre-tool-use Read", live, "pre-tool-use", payload("pre_tool_use_read", live, session_id=ALICE), 0, 1.5),
        ("user-prompt-submit, nothing pending", live, "user-prompt-submit",
         payload("user_prompt_submit", live, session_id=ALICE), 0, 2.5),
        ("post-tool-use Read, nothing pending", live, "post-tool-use",
         payload("post_tool_use_read", live, session_id=ALICE), 0, 1.5),
        ("post-tool-use Bash `ls`, nothing pending", live, "post-tool-use",
         payload("post_tool_use_bash", live, session_id=ALICE, tool_input={"command": "ls src"}), 0, None),
        ("pre-tool-use Edit, 200 pattern locks", patterns, "pre-tool-use", edit(patterns, "gen/part7/x/y.txt"), 0, None),
        ("pre-tool-use Edit, blocked (slow path)", live, "pre-tool-use", edit(live, "src/mod07.py"), 0, None),  # deny JSON
        ("pre-tool-use Bash `echo x > file`", live, "pre-tool-use",
         payload("pre_tool_use_bash", live, session_id=ALICE, tool_input={"command": "echo x > src/notes.txt"}), 0,
         None),
    ]


# ---------------------------------------------------------------------------
# Variants: no bytecode, shiv, upstream


def archive_without_pyc(target):
    """dist/agent-sync.pyz without bytecode: every module compiled from its source at import."""
    sources, data, _compiled, when, shebang = packer.unpack(PYZ.read_bytes())
    target.write_bytes(packer.pack(sources, data, {}, when=when, shebang=shebang))
    target.chmod(0o755)
    return target


def build_shiv(target, shiv_root):
    """A shiv zipapp of the package the pyz holds (its .py and data files), built offline."""
    shiv = Path(sys.executable).parent / "shiv"
    if not shiv.exists():
        return None, f"shiv not found at {shiv}"
    staging = OUT / "shiv-site"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    sources, data, _compiled, _when, _shebang = packer.unpack(PYZ.read_bytes())
    for name, payload in [*((n, t.encode("utf-8")) for n, t in sources.items()), *data.items()]:
        if name.startswith("agent_sync/"):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(payload)
    env = base_env(SHIV_ROOT=str(shiv_root))
    proc = subprocess.run([str(shiv), "-o", str(target), "-e", "agent_sync.__main__:main",
                           "--site-packages", str(staging), "--reproducible"],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not target.exists():
        return None, f"shiv failed: {(proc.stderr or proc.stdout).strip()[-300:]}"
    return target, None


def upstream_install():
    """The public 0.4.0 package in a throwaway venv; (agent-sync path, None) or (None, why not)."""
    venv = OUT / "upstream-venv"
    exe = venv / "bin" / "agent-sync"
    if exe.exists():
        return exe, None
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True,
                       timeout=120)
        proc = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                               UPSTREAM], capture_output=True, text=True, timeout=300)
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"could not create the venv: {exc}"
    if proc.returncode != 0 or not exe.exists():
        return None, f"pip install {UPSTREAM} failed (offline?): {proc.stderr.strip()[-200:]}"
    return exe, None


def upstream_cases(exe):
    """The same situations for upstream, in its own repository (it has no pattern locks)."""
    repo = OUT / "work" / "upstream"
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "src").mkdir()

    def run(*args, agent="bob"):
        proc = subprocess.run([str(exe), *args], cwd=repo, capture_output=True, text=True,
                              env=base_env(AGENT_SYNC_ID=agent))
        if proc.returncode != 0:
            raise RuntimeError(f"upstream {' '.join(args)}: {proc.stderr.strip()[:300]}")

    run("init")
    run("register", "--name", "bob")
    for i in range(50):  # one lock per call there
        run("lock", f"src/mod{i:02d}.py", "--reason", "bench", "--ttl", "240")
    edit = lambda rel: payload("pre_tool_use_edit", repo, session_id=ALICE,  # noqa: E731
                               tool_input={"file_path": str(repo / rel)})
    command = lambda event: f"{shlex.quote(str(exe))} hook {event}"  # noqa: E731
    return repo, {
        "pre-tool-use Edit, unlocked, 50 live locks": (command("pre-tool-use"), edit("src/app.py"), 0),
        "pre-tool-use Read": (command("pre-tool-use"), payload("pre_tool_use_read", repo, session_id=ALICE), 0),
        "user-prompt-submit, nothing pending": (command("user-prompt-submit"),
                                                payload("user_prompt_submit", repo, session_id=ALICE), 0),
        "pre-tool-use Edit, blocked (slow path)": (command("pre-tool-use"), edit("src/mod07.py"), 2),
        "pre-tool-use Bash `echo x > file`": (command("pre-tool-use"),
                                              payload("pre_tool_use_bash", repo, session_id=ALICE,
                                                      tool_input={"command": "echo x > src/notes.txt"}), 0),
    }


# ---------------------------------------------------------------------------
# Report


def verdict(ratio, target):
    if target is None:
        return "  (report)"
    return f"  {'PASS' if ratio <= target else 'FAIL'} <={target}x"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", "40")),
                        help="timed runs per command and per floor (default 40, at least 30 recommended)")
    parser.add_argument("--no-upstream", action="store_true", help=f"skip {UPSTREAM}")
    parser.add_argument("--no-shiv", action="store_true", help="skip the shiv variant")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a targeted case misses its target")
    parser.add_argument("--cli-runs", type=int, default=15,
                        help="runs per command in the CLI table (bench/cli.py; 0 skips the CLI, storm, per-Python "
                             "and MCP sections)")
    parser.add_argument("--latency-runs", type=int, default=30,
                        help="messages per path in the delivery-latency section (0 skips it; bench/latency.py)")
    args = parser.parse_args(argv)
    if not PYZ.exists():
        print(f"{PYZ} is missing: run `make build` first", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    runs = args.runs

    real = os.path.realpath(sys.executable)
    path_python = shutil.which("python3") or "python3"
    path_real = subprocess.run(["python3", "-I", "-S", "-c", "import sys;print(sys.executable)"],
                               capture_output=True, text=True, env=base_env()).stdout.strip()
    print(f"agent-sync hook benchmark: {runs} runs per command, medians, {os.cpu_count()} CPUs")
    print(f"  archive:           {PYZ.relative_to(ROOT)} ({PYZ.stat().st_size} bytes)")
    print(f"  python3 on PATH:   {path_python}" + (f" -> {path_real}" if path_real else ""))
    print(f"  real interpreter:  {real} (Python {sys.version.split()[0]})")
    print(f"  installer writes:  {hookcommand.prefix()} <event>")
    print()

    live, patterns = seeded_repos()
    cases = hook_cases(live, patterns, leased_repo())
    floors = {"PATH python3": "python3", "real interpreter": shlex.quote(real)}
    results = {}
    failed = []
    for label, python in floors.items():
        prefix = hookcommand.prefix(python=python)
        floor = f"{python} -I -S -c pass"
        print(f"== Hook command with {label} ({python}); floor = `{floor}`")
        print(f"{'case':46} {'hook ms':>8} {'floor ms':>8} {'ratio':>6}  verdict")
        for name, repo, event, data, expect, target in cases:
            env = base_env(CLAUDE_PROJECT_DIR=str(repo))
            hook, base = alternate(f"{prefix} {event}", floor, runs, data, repo, env, expect=expect)
            ratio = hook / base
            results[(label, name)] = (hook, base)
            line = verdict(ratio, target)
            if target is not None and ratio > target:
                failed.append(f"{name} with {label}: {ratio:.2f}x > {target}x")
            print(f"{name:46} {ms(hook)} {ms(base)} {ratio:6.2f}{line}")
        print()

    # upstream
    print(f"== Upstream {UPSTREAM} (`<venv>/bin/agent-sync hook EVENT`; its script runs the venv's interpreter)")
    if args.no_upstream:
        print("  skipped (--no-upstream)")
    else:
        exe, why = upstream_install()
        if exe is None:
            print(f"  skipped: {why}")
        else:
            try:
                up_repo, up_cases = upstream_cases(exe)
                floor = f"{shlex.quote(real)} -I -S -c pass"
                print(f"{'case':46} {'up ms':>8} {'floor ms':>8} {'ratio':>6} {'ours ms':>8}  ours/upstream")
                for name, (command, data, expect) in up_cases.items():
                    up, base = alternate(command, floor, runs, data, up_repo, base_env(CLAUDE_PROJECT_DIR=str(up_repo)),
                                         expect=expect)
                    ours = results[("real interpreter", name)][0]
                    print(f"{name:46} {ms(up)} {ms(base)} {up / base:6.2f} {ms(ours)}  {ours / up:5.2f}")
            except (RuntimeError, OSError) as exc:
                print(f"  skipped: {exc}")
    print()

    # bytecode
    print("== Bytecode: dist/agent-sync.pyz vs the same archive without bytecode (real interpreter)")
    nopyc = archive_without_pyc(OUT / "agent-sync-nopyc.pyz")
    py = shlex.quote(real)
    edit_name, edit_repo, edit_event, edit_data, _, _ = cases[0]
    env = base_env(CLAUDE_PROJECT_DIR=str(edit_repo))
    rows = [
        ("--version", f"{py} -I -S {shlex.quote(str(PYZ))} --version",
         f"{py} -I -S {shlex.quote(str(nopyc))} --version", b""),
        (f"hook: {edit_name}", f"{hookcommand.prefix(python=py)} {edit_event}",
         f"{hookcommand.prefix(pyz_ref=shlex.quote(str(nopyc)), python=py)} {edit_event}", edit_data),
    ]
    print(f"{'command':52} {'pyc ms':>8} {'no-pyc ms':>9} {'no-pyc/pyc':>10}")
    for name, with_pyc, without, data in rows:
        a, b = pair(with_pyc, without, runs, data, data, edit_repo, env)
        print(f"{name:52} {ms(a)} {ms(b):>9} {b / a:10.2f}")
    print()

    # shiv
    print("== shiv zipapp of the same package vs the plain pyz (real interpreter; warm shiv cache)")
    if args.no_shiv:
        print("  skipped (--no-shiv)")
    else:
        shiv_root = OUT / "shiv-root"  # SHIV_ROOT: where shiv extracts; emptied so the first run is cold
        shutil.rmtree(shiv_root, ignore_errors=True)
        shiv_root.mkdir()
        shiv_pyz, why = build_shiv(OUT / "agent-sync-shiv.pyz", shiv_root)
        if shiv_pyz is None:
            print(f"  skipped: {why}")
        else:
            env = base_env(CLAUDE_PROJECT_DIR=str(edit_repo), SHIV_ROOT=str(shiv_root))
            first, code, err = timed(f"{py} {shlex.quote(str(shiv_pyz))} --version", b"", edit_repo, env)
            if code != 0:
                print(f"  skipped: the shiv archive does not run: {err.decode(errors='replace').strip()[-300:]}")
            else:
                print(f"  first run (extracts into SHIV_ROOT): {first * 1000:.1f} ms")
                plain, shivq = shlex.quote(str(PYZ)), shlex.quote(str(shiv_pyz))
                rows = [
                    ("--version", f"{py} -I -S {plain} --version", f"{py} {shivq} --version", b""),
                    (f"hook: {edit_name}", f"{py} -I -S {plain} hook {edit_event}",
                     f"{py} {shivq} hook {edit_event}", edit_data),
                    ("hook via installer prefix vs shiv", f"{hookcommand.prefix(python=py)} {edit_event}",
                     f"{py} {shivq} hook {edit_event}", edit_data),
                ]
                print(f"{'command':52} {'pyz ms':>8} {'shiv ms':>9} {'shiv/pyz':>10}")
                for name, ours, theirs, data in rows:
                    a, b = pair(ours, theirs, runs, data, data, edit_repo, env)
                    print(f"{name:52} {ms(a)} {ms(b):>9} {b / a:10.2f}")
    print()

    if args.cli_runs > 0:  # issue 15: the commands agents type, the storm, every Python, MCP
        from bench import cli as clibench, pythons

        failed += clibench.cli_table(args.cli_runs)
        print()
        failed += clibench.storm(upstream=not args.no_upstream)
        print()
        failed += pythons.hook_table(max(args.cli_runs, 15))
        print()
        failed += pythons.mcp_round_trip(400)
        print()

    if args.latency_runs > 0:
        from bench import latency

        if not latency.report(args.latency_runs):
            failed.append(f"idle wake p99 above {latency.WAKE_TARGET:.0f} s")
        print()

    if failed:
        print("Targets missed:\n  " + "\n  ".join(failed))
    else:
        print("All targeted cases met their targets.")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
