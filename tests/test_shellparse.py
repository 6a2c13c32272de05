"""Unit tests for agent_sync.hooks.shellparse.write_targets."""

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from agent_sync.hooks.shellparse import write_targets  # noqa: E402

HOME = '/home/tester'

# (command, expected targets relative to the tmp cwd; absolute ones stay as they are).
# The cwd holds the directories dir/ and sub/ and the file exist.py.
WRITES = [
    # redirections
    ('echo hi > out.txt', ['out.txt']),
    ('echo hi >out.txt', ['out.txt']),
    ('echo hi >> log.txt', ['log.txt']),
    ('cat a > b', ['b']),
    ('grep x y 2> err.txt', ['err.txt']),
    ('grep x y 2>err.log', ['err.log']),
    ('ls &> out', ['out']),
    ('ls &>> out', ['out']),
    ('echo x >| clobber', ['clobber']),
    ('make 1> build.log', ['build.log']),
    ('exec 3> fd3.txt', ['fd3.txt']),
    ('cmd >& both.log', ['both.log']),
    ('cmd 2>/dev/null', []),
    ('cmd > /dev/null 2>&1', []),
    ('cmd >&2', []),
    ('cmd > /dev/stderr; cmd > /dev/fd/3; cmd > /dev/tty', []),
    ('echo hi > "out file.txt"', ['out file.txt']),
    ("echo hi > 'q u o t e d'", ['q u o t e d']),
    ('echo hi > /tmp/abs.txt', ['/tmp/abs.txt']),
    ('echo hi > ./a/../b/./c', ['b/c']),
    ('echo hi > ~/notes.txt', [HOME + '/notes.txt']),
    ('echo hi > "$AS_OUT/x.log"', ['out_dir/x.log']),
    ('echo hi > ${AS_OUT}.log', ['out_dir.log']),
    ('echo hi > $AS_UNSET/x', []),
    ('echo hi > $(mktemp)', []),
    ('wc -l < input.txt', []),
    ('cat <<< "text" > here.txt', ['here.txt']),
    ('echo a2>f', ['f']),
    # pipelines, lists, cd
    ('cat a | tee b', ['b']),
    ('sort x | sed -i s/a/b/ f', ['f']),
    ('npm test 2>&1 | tee -a test.log', ['test.log']),
    ('cd sub && echo x > f', ['sub/f']),
    ('cd "a b" ; touch c', ['a b/c']),
    ('cd sub || exit 1\nrm f', ['sub/f']),
    ('cd /var/tmp && touch x', ['/var/tmp/x']),
    ('cd; touch x', [HOME + '/x']),
    ('cd ~/proj && touch x', [HOME + '/proj/x']),
    ('pushd sub && touch x', ['sub/x']),
    ('cd sub > moved.log', ['moved.log']),
    ('(cd x && rm y); rm z', ['x/y', 'z']),
    ('{ cd x; rm y; }; rm z', ['x/y', 'x/z']),
    ('(cd x && make) > build.log', ['build.log']),
    ('echo $(cd sub; touch inner) > outer', ['sub/inner', 'outer']),
    ('x=`touch tick`', ['tick']),
    ('diff <(sort a) <(sort b) > d', ['d']),
    ('nohup ./run.sh > run.log 2>&1 &', ['run.log']),
    ('if [ -f x ]; then rm x; fi', ['x']),
    ('while read l; do echo "$l" >> seen; done < input', ['seen']),
    ('[[ a > b ]] && rm x', ['x']),
    ('(( n > 5 )) && rm y', ['y']),
    ('f() { echo > in_func; }', ['in_func']),
    ('! grep -q x f > g', ['g']),
    # comments, continuations, heredocs
    ('echo hi # > not_a_file', []),
    ('# comment\ntouch after_comment', ['after_comment']),
    ('sed -i \\\n  s/a/b/ \\\n  cont.txt', ['cont.txt']),
    ('cat > out.txt <<EOF\nline > not_a_file\nEOF\necho > after', ['out.txt', 'after']),
    ("cat <<'EOF' > quoted_doc\n$(rm body)\nEOF", ['quoted_doc']),
    ('cat <<-EOF > tabbed\n\tbody > x\n\tEOF\ntouch t', ['tabbed', 't']),
    ('python - <<EOF\nopen("f", "w")\nEOF', []),
    # prefixes and nested shells
    ('sudo tee /etc/hosts', ['/etc/hosts']),
    ('sudo -u root tee -a /etc/x.conf > /dev/null', ['/etc/x.conf']),
    ('sudo -e /etc/motd', ['/etc/motd']),
    ('env FOO=1 sed -i s/a/b/ f', ['f']),
    ('env -i -u X FOO=1 BAR=2 touch e', ['e']),
    ('env -C sub touch e', ['sub/e']),
    ('FOO=1 BAR=2 tee out', ['out']),
    ('time nice -n 10 nohup command rm old', ['old']),
    ('timeout -s KILL 5 sed -i s/a/b/ f', ['f']),
    ('/usr/bin/sed -i s/a/b/ f', ['f']),
    ("bash -c 'echo hi > inner.txt'", ['inner.txt']),
    ('sh -c "cd sub && touch f"; touch g', ['sub/f', 'g']),
    ("bash -lc 'rm a'", ['a']),
    ('eval "echo > ev"', ['ev']),
    ("bash -c \"bash -c 'touch deep'\"", ['deep']),
    # commands that write their operands
    ('tee -a -i f1 f2', ['f1', 'f2']),
    ('tee -- -x', ['-x']),
    ('rm -rf build/ dist', ['build', 'dist']),
    ('rm src/*.py', ['src/*.py']),
    ('rm -- -f', ['-f']),
    ('rm file -f', ['file']),
    ('rmdir -p a/b', ['a/b']),
    ('unlink u', ['u']),
    ('shred -n 3 -u secret', ['secret']),
    ('truncate -s 0 t1; truncate --size=0 t2; truncate -r ref t3', ['t1', 't2', 't3']),
    ('touch -d yesterday t1; touch -r ref t2; touch -t 202401010000 t3', ['t1', 't2', 't3']),
    ('mkdir -p -m 755 new/dir', ['new/dir']),
    ('chmod +x run.sh', ['run.sh']),
    ('chmod -R 755 dir', ['dir']),
    ('chmod -x f', ['f']),
    ('chmod --reference=ref f', ['f']),
    ('chown user:group f h', ['f', 'h']),
    ('chgrp -R staff g', ['g']),
    ('dd if=/dev/zero of=disk.img bs=1M count=1', ['disk.img']),
    ('sort -o sorted.txt input', ['sorted.txt']),
    ('curl -sSL https://example.invalid -o page.html', ['page.html']),
    ('wget -O page.html https://example.invalid', ['page.html']),
    # sed and perl
    ("sed -i 's/a/b/' f", ['f']),
    ("sed -i.bak 's/a/b/' f", ['f']),
    ("sed --in-place=.bak 's/a/b/' f", ['f']),
    ("sed -n -i 's/a/b/p' f", ['f']),
    ("sed -ni 's/a/b/p' f", ['f']),
    ("sed -E -i 's/a+/b/' f g", ['f', 'g']),
    ('sed -i -e s/a/b/ -e s/c/d/ f g', ['f', 'g']),
    ('sed -f script.sed -i f', ['f']),
    ("sed -i '' 's/a/b/' f", ['f']),
    ("sed 's/a/b/' f", []),
    ("perl -pi -e 's/a/b/' f g", ['f', 'g']),
    ("perl -i.bak -pe 's/a/b/' f", ['f']),
    ("perl -i -p -e 's/a/b/' f", ['f']),
    ("perl -0777 -pi -e 's/a/b/' f", ['f']),
    ("perl -pe 's/a/b/' f", []),
    # cp, mv, install, ln
    ('cp a b', ['b']),
    ('cp -r src/ dir', ['dir', 'dir/src']),
    ('cp a b dir/', ['dir', 'dir/a', 'dir/b']),
    ('cp -T a dir', ['dir']),
    ('cp -t dir a b', ['dir', 'dir/a', 'dir/b']),
    ('cp --target-directory=dir a', ['dir', 'dir/a']),
    ('mv a b', ['a', 'b']),
    ('mv old.py dir', ['old.py', 'dir', 'dir/old.py']),
    ('mv -t dir a', ['a', 'dir', 'dir/a']),
    ('install -m 644 -o root src dest', ['dest']),
    ('install -d d1 d2', ['d1', 'd2']),
    ('ln -s target link', ['link']),
    ('ln -sf /x/target', ['target']),
    ('ln -s a b dir', ['dir', 'dir/a', 'dir/b']),
    # find
    ("find . -name '*.pyc' -delete", ['.']),
    ('find src build -type f -delete', ['src', 'build']),
    ('find . -exec rm {} \\;', ['.']),
    ("find . -name '*.py' -exec sed -i s/a/b/ {} +", ['.']),
    ('find . -fprint listing.txt', ['listing.txt']),
    # git
    ('git checkout -- f', ['f']),
    ('git checkout main -- a b', ['a', 'b']),
    ('git checkout -- .', ['.']),
    ('git checkout .', ['.']),
    ('git checkout HEAD~1 exist.py', ['exist.py']),
    ('git -C sub checkout -- f', ['sub/f']),
    ('git -c core.x=y -C sub -C deeper checkout -- f', ['sub/deeper/f']),
    ('git restore f', ['f']),
    ('git restore --source=HEAD~2 f', ['f']),
    ('git restore -s HEAD f', ['f']),
    ('git restore --staged --worktree f', ['f']),
    ('git restore --staged f', []),
    ('git rm -r old', ['old']),
    ('git rm --cached f', []),
    ('git mv a b', ['a', 'b']),
    ('git stash list', []),
    ('git clean -n', []),
    ('git clean -fd', ['.']),  # untracked files anywhere below: the current folder
    ('git clean -fdx src', ['src']),
    ('git reset HEAD f', []),
    ('git apply --check x.patch', []),
    # several writes: order of execution, no repeats
    ('echo a > x; echo b > y; echo c >> x', ['x', 'y']),
    ('tee a b > c', ['c', 'a', 'b']),
]

READS = [
    'cat a b',
    'grep -rn pattern src',
    'rg -l foo',
    'ls -la',
    'head -n 5 f',
    'tail -f log',
    'wc -l f',
    'find . -name x',
    'find . -type f -exec grep -l foo {} +',
    'echo hi',
    'echo "a > b"',
    'python -c "print(1)"',
    "python -c \"open('f', 'w')\"",
    'node -e "require(1)"',
    'git diff',
    'git status',
    'git log --oneline -n 5',
    'git add -A && git commit -m "msg > x"',
    'git checkout main',
    'git checkout -b feature',
    'git switch main',
    'find . -name "*.tmp" | xargs rm -f',
    'for f in a b; do touch "$f"; done',
    'mkdir',
    '',
    '   ',
    'true',
    'sudo',
]

UNPARSEABLE = [
    "echo 'abc",
    'echo "abc',
    'echo $(ls',
    'echo `ls',
    'echo ${HOME',
    'cd - && touch f',
    'cd -\necho x > f',
    'cd $AS_UNSET && touch f',
    'popd; rm f',
    'echo >',
    'git stash',
    'git stash pop',
    'git reset --hard',
    'git apply x.patch',
    "bash -c 'bash -c \"bash -c \\\"bash -c x\\\"\"'",
]


@pytest.fixture
def ws(tmp_path, monkeypatch):
    """A workspace with dir/ and sub/ directories and an exist.py file."""
    (tmp_path / 'dir').mkdir()
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'exist.py').write_text('')
    monkeypatch.setenv('HOME', HOME)
    monkeypatch.setenv('AS_OUT', 'out_dir')
    monkeypatch.delenv('AS_UNSET', raising=False)
    return str(tmp_path)


def _expected(ws, paths):
    return [os.path.normpath(os.path.join(ws, p)) for p in paths]


def test_table_is_large_enough():
    assert len(WRITES) >= 60


@pytest.mark.parametrize('command,expected', WRITES, ids=[c for c, _ in WRITES])
def test_write_targets(ws, command, expected):
    assert write_targets(command, ws) == _expected(ws, expected)


@pytest.mark.parametrize('command', READS)
def test_reads_write_nothing(ws, command):
    assert write_targets(command, ws) == []


@pytest.mark.parametrize('command', UNPARSEABLE)
def test_unparseable_is_none(ws, command):
    assert write_targets(command, ws) is None


def test_cd_dash_with_absolute_target_still_resolves(ws):
    assert write_targets('cd - && touch /tmp/abs', ws) == ['/tmp/abs']


def test_tilde_without_home_is_left_alone(ws, monkeypatch):
    monkeypatch.delenv('HOME')
    assert write_targets('echo > ~/x', ws) == _expected(ws, ['~/x'])
    assert write_targets('cd && touch x', ws) is None


def test_relative_cwd_is_made_absolute(ws, monkeypatch):
    monkeypatch.chdir(ws)
    assert write_targets('touch x', 'sub') == _expected(ws, ['sub/x'])


def test_imports_nothing_new():
    """The hook pays for every import on each tool call: only os is allowed."""
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        'agent_sync', 'hooks', 'shellparse.py')
    code = ('import sys, importlib.util\n'
            'before = set(sys.modules)\n'
            f'spec = importlib.util.spec_from_file_location("shellparse", {path!r})\n'
            'spec.loader.exec_module(importlib.util.module_from_spec(spec))\n'
            'print(sorted(set(sys.modules) - before))\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]'


@pytest.mark.parametrize('command', [
    'sudo ' * 20000,
    '( ' * 50000,
    '$(' * 30000,
    '`' * 100001,
    'a ' * 50000,
    '> a ' * 25000,
    'cat <<E\n' * 10000,
    '(((' * 30000 + ')))' * 30000,
    'cd a; ' * 20000 + 'touch x',
    'cp ' + 'a ' * 50000 + 'dir',
    'eval eval ' * 10000,
    'find -exec ' * 10000,
])
@pytest.mark.timeout(30)  # a hang guard against super-linear parsing, not a speed measurement
def test_pathological_input_terminates(ws, command):
    result = write_targets(command, ws)
    assert result is None or isinstance(result, list)


VOCAB = [
    'echo', 'cat', 'tee', 'sed', 'perl', 'cp', 'mv', 'rm', 'ln', 'install', 'git',
    'checkout', 'restore', 'stash', 'find', 'dd', 'chmod', 'touch', 'truncate',
    'cd', 'pushd', 'popd', 'sudo', 'env', 'timeout', 'xargs', 'bash', 'sh', 'eval',
    '-c', '-i', '-e', '-t', '-C', '-pi', '-delete', '-exec', '--', '-', '.', '..',
    'a', 'b c', 'dir', 'sub', '/abs/p', '~', '~/x', 'f.txt', '*.py', 'of=x', 'FOO=1',
    '$HOME', '$X', '${Y}', '$(', '`', '"', "'", '\\', '#', '\n', ';', '&&', '||',
    '|', '|&', '&', '(', ')', '{', '}', '[[', ']]', '((', '))', '>', '>>', '2>',
    '&>', '>&', '2>&1', '<', '<<', '<<-', '<<<', 'EOF', '/dev/null', '<(', '>(',
    '$((', "$'", 'if', 'then', 'fi', 'do', 'done', '()', '{}', '\\;',
]


def _check_result(result):
    assert result is None or isinstance(result, list)
    for path in result or ():
        assert isinstance(path, str)
        assert os.path.isabs(path)
        assert os.path.normpath(path) == path


FUZZ_CWD = '/tmp/agent-sync-fuzz/ws'


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(command):
    _check_result(write_targets(command, FUZZ_CWD))


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), max_size=30), st.sampled_from([' ', '', '\n']))
def test_never_raises_on_shell_like_text(words, sep):
    _check_result(write_targets(sep.join(words), FUZZ_CWD))
