"""Hook payloads of any size are read to the end (issue 12, "Oversized payloads").

Only the target path matters, so a Write's content of any length is streamed past and
dropped; the path before or after it is still checked. A hook never answers "allowed"
for a payload it did not read: when the part that matters is itself too long to keep,
it fails open and says so on stderr.
"""

import io
import json
import subprocess
import sys

import pytest
from conftest import HOOK_LAUNCH, clean_env
from hypothesis import given, settings, strategies as st

import conftest
from agent_sync.core import fastjson

MiB = 1 << 20
CONTENT = "def f(x):\n    return \"quoted\\\\path\" + x  # \u00e9\u4e2d\n"


def content(size):
    return CONTENT * (size // len(CONTENT) + 1)


def write_payload(repo, rel, size, path_first=True, tool="Write"):
    tool_input = {"file_path": str(repo.path / rel)}
    if path_first:
        tool_input["content"] = content(size)
    else:
        tool_input = {"content": content(size), **tool_input}
    return json.dumps({"session_id": "sess-big-1", "hook_event_name": "PreToolUse", "tool_name": tool,
                       "tool_input": tool_input, "cwd": str(repo.path), "permission_mode": "default"}).encode()


def hook(repo, data, installed=False, agent_args=(), event="pre-tool-use"):
    head = [sys.executable, "-I", "-S", "-c", HOOK_LAUNCH, str(conftest.PYZ)] if installed else \
        [sys.executable, str(conftest.PYZ)]
    args = [*agent_args, event] if installed else ["hook", *agent_args, event]
    proc = subprocess.run([*head, *args], input=data, cwd=repo.path,
                          env=clean_env(repo.home), capture_output=True, timeout=120)
    assert b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    return proc


@pytest.fixture
def locked(repo):
    (repo.path / "src").mkdir()
    repo.ok("lock", "src/app.py", "--reason", "mine", agent="bob")
    return repo


@pytest.mark.parametrize("path_first", [True, False], ids=["path-first", "path-last"])
def test_a_50_mib_write_on_a_locked_file_is_refused(locked, path_first):
    data = write_payload(locked, "src/app.py", 50 * MiB, path_first)
    assert len(data) > 50 * MiB
    proc = hook(locked, data)
    assert proc.returncode == 2 and b"locked by bob" in proc.stderr, proc.stderr[:500]
    installed = hook(locked, data, installed=True)  # the installed command answers in Claude Code's format
    assert installed.returncode == 0, installed.stderr[:500]
    answer = json.loads(installed.stdout)["hookSpecificOutput"]
    assert answer["permissionDecision"] == "deny" and "locked by bob" in answer["permissionDecisionReason"]


def test_a_20_mib_write_on_a_free_file_is_allowed_without_a_word(locked):
    proc = hook(locked, write_payload(locked, "src/free.py", 20 * MiB))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")


def test_a_shell_command_too_long_to_keep_fails_open_and_says_so(locked):
    command = "cat > src/app.py <<'EOF'\n" + content(9 * MiB) + "EOF\n"
    data = json.dumps({"session_id": "sess-big-1", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                       "tool_input": {"command": command}, "cwd": str(locked.path)}).encode()
    proc = hook(locked, data)
    assert proc.returncode == 0
    assert b"too long to check (allowed; nothing was checked)" in proc.stderr, proc.stderr


def test_a_shell_command_of_5_mib_is_still_parsed(locked):
    command = "cat > src/app.py <<'EOF'\n" + content(5 * MiB) + "EOF\n"
    data = json.dumps({"session_id": "sess-big-1", "hook_event_name": "PreToolUse", "tool_name": "Bash",
                       "tool_input": {"command": command}, "cwd": str(locked.path)}).encode()
    proc = hook(locked, data)
    assert proc.returncode == 2 and b"locked by bob" in proc.stderr, proc.stderr[:300]


def test_a_payload_made_of_structure_beyond_the_cap_fails_open_and_says_so(locked):
    filler = b"[" + b"1," * (34 * MiB) + b"1]"  # 68 MiB of numbers: nothing to drop
    data = (b'{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"file_path":"'
            + str(locked.path / "src/app.py").encode() + b'","extra":' + filler + b"}}")
    proc = hook(locked, data)
    assert proc.returncode == 0 and b"(allowed; nothing was blocked)" in proc.stderr, proc.stderr[:300]
    assert b"MiB" in proc.stderr


def test_codex_big_patch_path_still_checked(locked):
    """Codex's apply_patch: the patch text is the command; a 3 MiB patch is read and its paths checked."""
    patch = "*** Begin Patch\n*** Update File: src/app.py\n@@\n" + "".join(
        f"+{line}\n" for line in content(3 * MiB).splitlines()) + "*** End Patch\n"
    data = json.dumps({"session_id": "s", "hook_event_name": "PreToolUse", "tool_name": "apply_patch",
                       "tool_input": {"command": patch}, "cwd": str(locked.path), "turn_id": "t",
                       "transcript_path": None, "model": "m", "permission_mode": "default",
                       "tool_use_id": "c"}).encode()
    proc = hook(locked, data, agent_args=("--agent", "codex"), event="PreToolUse")
    assert b"locked by bob" in proc.stderr + proc.stdout, (proc.returncode, proc.stdout[:300], proc.stderr[:300])


# ---------------------------------------------------------------------------
# The streaming reader itself, with tiny limits so every branch is exercised

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def expected(value, keep, ascii_only):
    """`value` with every string whose JSON-escaped body is over `keep` bytes replaced by UNREAD."""
    def fix(s):
        return fastjson.UNREAD if len(json.dumps(s, ensure_ascii=ascii_only).encode()) - 2 > keep else s
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        return [expected(v, keep, ascii_only) for v in value]
    if isinstance(value, dict):
        return {fix(k): expected(v, keep, ascii_only) for k, v in value.items()}
    return value


@settings(max_examples=400, deadline=None)
@given(json_values, st.integers(10, 40), st.integers(1, 17), st.booleans())
def test_the_stream_reader_keeps_everything_but_long_strings(value, keep, chunk, ascii_only):
    text = json.dumps({"v": value, "file_path": "src/a.py"}, ensure_ascii=ascii_only).encode()
    saved = fastjson.SMALL, fastjson.KEEP_STRING, fastjson.CHUNK
    fastjson.SMALL, fastjson.KEEP_STRING, fastjson.CHUNK = 0, keep, chunk
    try:
        class Chunky(io.BytesIO):
            def read(self, n=-1):
                return super().read(min(n, chunk) if n and n > 0 else chunk)
        got = fastjson.read(Chunky(text))
    finally:
        fastjson.SMALL, fastjson.KEEP_STRING, fastjson.CHUNK = saved
    assert got.size == len(text)
    assert got.value == expected(json.loads(text), keep, ascii_only)
    assert got.value["file_path"] == "src/a.py"
    assert got.dropped == (json.dumps(got.value).count("too long to keep") > 0)


def test_copilot_tool_args_as_one_huge_string_is_not_allowed_in_silence(locked):
    """Copilot may send toolArgs as a JSON string: over the keep limit it cannot be read for its path."""
    args = json.dumps({"path": str(locked.path / "src/app.py"), "file_text": content(9 * MiB)})
    data = json.dumps({"sessionId": "s", "timestamp": 1, "cwd": str(locked.path), "toolName": "create",
                       "toolArgs": args}).encode()
    proc = hook(locked, data, agent_args=("--agent", "copilot"), event="preToolUse")
    assert proc.returncode != 0 or b"nothing was checked" in proc.stderr or b"locked by bob" in proc.stdout, \
        (proc.returncode, proc.stdout[:300], proc.stderr[:300])
