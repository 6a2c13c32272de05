"""Bash commands through the real `hook pre-tool-use`, against locks of another agent.

bob holds src/locked.py (a file), docs/ (a directory) and 'gen/*.json' (a
pattern). Each row is a command Claude's Bash tool might run from the
repository root and whether the gate must block it. `{root}` is the
repository's absolute path.
"""

import subprocess

import pytest
from conftest import Repo, clean_env
from test_hooks_contract import ALICE, BOB, Session, payload

BLOCK, ALLOW = "block", "allow"

CASES = [
    # --- redirections
    ("echo x > src/locked.py", BLOCK, "src/locked.py"),
    ("echo x >> src/locked.py", BLOCK, "src/locked.py"),
    ("make &> src/locked.py", BLOCK, "src/locked.py"),
    ("python3 gen.py 2> src/locked.py", BLOCK, "src/locked.py"),
    ("echo x >src/locked.py", BLOCK, "src/locked.py"),
    ("echo x 1> src/locked.py", BLOCK, "src/locked.py"),
    ("printf '%s' x > src/locked.py 2>/dev/null", BLOCK, "src/locked.py"),
    ("echo x > docs/sub/deep.md", BLOCK, "docs/"),
    ("echo '{}' > gen/out.json", BLOCK, "gen/*.json"),
    ("cat <<EOF > src/locked.py\nhello\nEOF", BLOCK, "src/locked.py"),
    ("echo x > ./src/../src/locked.py", BLOCK, "src/locked.py"),
    # --- tee
    ("echo x | tee src/locked.py", BLOCK, "src/locked.py"),
    ("echo x | tee -a src/locked.py", BLOCK, "src/locked.py"),
    ("make 2>&1 | tee -a docs/build.log", BLOCK, "docs/"),
    ("FOO=1 sudo tee src/locked.py < /dev/null", BLOCK, "src/locked.py"),
    # --- in-place editors
    ("sed -i 's/a/b/' src/locked.py", BLOCK, "src/locked.py"),
    ("sed -i.bak -e 's/a/b/' src/locked.py", BLOCK, "src/locked.py"),
    ("perl -i -pe 's/a/b/' src/locked.py", BLOCK, "src/locked.py"),
    # --- cp / mv / install / ln destinations (and mv sources)
    ("cp src/free.py src/locked.py", BLOCK, "src/locked.py"),
    ("cp src/free.py docs/", BLOCK, "docs/"),
    ("cp src/free.py gen/new.json", BLOCK, "gen/*.json"),
    ("mv src/free.py src/locked.py", BLOCK, "src/locked.py"),
    ("mv src/locked.py /tmp/moved.py", BLOCK, "src/locked.py"),
    ("install -m 644 src/free.py src/locked.py", BLOCK, "src/locked.py"),
    ("ln -sf /etc/hosts src/locked.py", BLOCK, "src/locked.py"),
    # --- rm, truncate, touch, mkdir, dd, sort -o, find -delete
    ("rm src/locked.py", BLOCK, "src/locked.py"),
    ("rm -rf docs", BLOCK, "docs/"),
    ("rm gen/*.json", BLOCK, "gen/*.json"),
    ("rm {root}/docs/guide.md", BLOCK, "docs/"),
    ("truncate -s 0 src/locked.py", BLOCK, "src/locked.py"),
    ("touch src/locked.py", BLOCK, "src/locked.py"),
    ("mkdir -p docs/new", BLOCK, "docs/"),
    ("dd if=/dev/zero of=src/locked.py count=1", BLOCK, "src/locked.py"),
    ("sort -o src/locked.py src/free.py", BLOCK, "src/locked.py"),
    ("find docs -name '*.md' -delete", BLOCK, "docs/"),
    # --- git
    ("git checkout -- src/locked.py", BLOCK, "src/locked.py"),
    ("git checkout HEAD~1 -- docs/guide.md", BLOCK, "docs/"),
    ("git restore src/locked.py", BLOCK, "src/locked.py"),
    ("git restore --source=HEAD~2 docs/guide.md", BLOCK, "docs/"),
    # --- chains and lists
    ("true && echo x > src/locked.py", BLOCK, "src/locked.py"),
    ("false || echo x > src/locked.py", BLOCK, "src/locked.py"),
    ("echo a; echo b > src/locked.py", BLOCK, "src/locked.py"),
    ("cat README.md | tee src/locked.py | wc -l", BLOCK, "src/locked.py"),
    ("(cd src; echo x > locked.py)", BLOCK, "src/locked.py"),
    ("bash -c 'echo x > src/locked.py'", BLOCK, "src/locked.py"),
    # --- leading cd, quoting, absolute paths
    ("cd src && echo x > locked.py", BLOCK, "src/locked.py"),
    ("cd docs && touch new.md", BLOCK, "docs/"),
    ("cd /tmp && cd {root}/src && rm locked.py", BLOCK, "src/locked.py"),
    ('echo x > "src/locked.py"', BLOCK, "src/locked.py"),
    ("echo x > 'src/locked.py'", BLOCK, "src/locked.py"),
    ('echo x > "{root}/src/locked.py"', BLOCK, "src/locked.py"),
    # --- a directory holding a locked file, removed, moved or reset as a whole.
    # KNOWN PRODUCT BUG (left failing on purpose): handlers._specs turns every shell
    # target into a FILE spec, so `src` never overlaps the lock on `src/locked.py`.
    ("rm -rf src", BLOCK, "src/locked.py"),
    ("mv src src_old", BLOCK, "src/locked.py"),
    ("git checkout -- .", BLOCK, "src/locked.py"),
    ("git restore src", BLOCK, "src/locked.py"),
    # --- writes that go nowhere locked
    ("echo x > /dev/null", ALLOW, None),
    ("ls 2>/dev/null", ALLOW, None),
    ("make &> /dev/null", ALLOW, None),
    ("echo x >> /dev/null 2>&1", ALLOW, None),
    ("echo x > src/free.py", ALLOW, None),
    ("echo x > src/locked.py.bak", ALLOW, None),
    ("echo x > docs-old/guide.md", ALLOW, None),
    ("echo x > gen/readme.md", ALLOW, None),
    ("echo x > gen/sub/a.json", ALLOW, None),
    ("head -n 5 src/locked.py > src/free.py", ALLOW, None),
    ("cp src/locked.py /tmp/copy.py", ALLOW, None),
    ("cp docs/guide.md src/guide-copy.md", ALLOW, None),
    ("wc -l src/locked.py | tee /tmp/count.txt", ALLOW, None),
    ("git restore --staged src/locked.py", ALLOW, None),
    ("git checkout main", ALLOW, None),
    # --- reads
    ("cat src/locked.py", ALLOW, None),
    ("cat src/locked.py docs/guide.md | grep -n foo", ALLOW, None),
    ("grep -rn TODO src/ docs/", ALLOW, None),
    ("git diff src/locked.py", ALLOW, None),
    ("git log --oneline -- docs/", ALLOW, None),
    ("git status", ALLOW, None),
    ("ls -la docs/ gen/", ALLOW, None),
    ("sed 's/a/b/' src/locked.py", ALLOW, None),
    ("diff src/locked.py docs/guide.md", ALLOW, None),
    ('echo "src/locked.py"', ALLOW, None),
    ("cd docs && cat guide.md", ALLOW, None),
    ("[[ a < b ]] && echo ok", ALLOW, None),
    ("python3 -c 'print(1)'", ALLOW, None),
    # --- unparseable: allowed (the gate is a guard rail, not a sandbox)
    ('echo "unterminated > src/locked.py', ALLOW, None),
    ("echo 'oops > docs/guide.md", ALLOW, None),
]


def test_the_table_is_big_enough():
    assert len(CASES) >= 40
    assert sum(1 for _, want, _ in CASES if want == BLOCK) >= 20
    assert sum(1 for _, want, _ in CASES if want == ALLOW) >= 20
    assert len({c for c, _, _ in CASES}) == len(CASES), "duplicate commands"


@pytest.fixture(scope="module")
def locked_repo(tmp_path_factory):
    base = tmp_path_factory.mktemp("bash")
    path, home = base / "repo", base / "home"
    path.mkdir()
    home.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=clean_env(home))
    repo = Repo(path, home)
    for rel in ("src/locked.py", "src/free.py", "docs/guide.md", "gen/a.json", "README.md"):
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text("x\n")
    bob = Session(repo, BOB, "bob")
    bob.ok("lock", "src/locked.py", "docs/", "gen/*.json", "--reason", "bash table")
    return repo


def _ids():
    return [f"{i:02d}-{want}-" + command.split("\n")[0][:40] for i, (command, want, _) in enumerate(CASES)]


@pytest.mark.parametrize("command, want, lock", CASES, ids=_ids())
def test_bash_command(locked_repo, command, want, lock):
    repo = locked_repo
    command = command.replace("{root}", str(repo.path))
    data = payload("pre_tool_use_bash", repo, session_id=ALICE,
                   tool_input={"command": command, "description": "table-driven case"})
    result = repo.hook("pre-tool-use", data)
    if want == BLOCK:
        assert result.code == 2, f"not blocked: {command!r}\n{result}"
        assert result.out == ""
        assert lock in result.err and "bob" in result.err, result.err
        assert " send --to " in result.err, result.err
    else:
        assert (result.code, result.out, result.err) == (0, "", ""), f"not allowed: {command!r}\n{result}"


def test_bash_of_the_lock_owner_is_allowed(locked_repo):
    repo = locked_repo
    for command in ("echo x > src/locked.py", "rm -rf docs", "echo '{}' > gen/out.json"):
        data = payload("pre_tool_use_bash", repo, session_id=BOB, tool_input={"command": command})
        result = repo.hook("pre-tool-use", data)
        assert (result.code, result.err) == (0, ""), (command, result)


def test_bash_relative_to_the_payload_cwd(locked_repo):
    repo = locked_repo
    data = payload("pre_tool_use_bash", repo, session_id=ALICE, cwd=repo.path / "src",
                   tool_input={"command": "echo x > locked.py"})
    result = repo.hook("pre-tool-use", data)
    assert result.code == 2 and "src/locked.py" in result.err, result
    data = payload("pre_tool_use_bash", repo, session_id=ALICE, cwd=repo.path / "docs",
                   tool_input={"command": "echo x > ../src/free.py"})
    assert repo.hook("pre-tool-use", data).code == 0
