"""install.sh, run offline: file:// URLs and local paths, and every way it must refuse without writing."""

import hashlib
import os
import shutil
import subprocess
import sys

import conftest
import pytest
from conftest import ROOT, clean_env

SCRIPT = ROOT / "install.sh"


def work_tree(path):
    return sorted(p for p in os.listdir(path) if p != ".git")


def install_sh(repo, *args, url=None, env=None, piped=False, cwd=None, tmpdir=None):
    extra = {"AGENT_SYNC_URL": url or conftest.PYZ.as_uri(), **(env or {})}
    if tmpdir is not None:
        extra["TMPDIR"] = tmpdir
    command = ["sh", "-s", "--", *map(str, args)] if piped else ["sh", str(SCRIPT), *map(str, args)]
    return subprocess.run(command, input=SCRIPT.read_text() if piped else None, cwd=str(cwd or repo.home),
                          env=clean_env(repo.home, **extra), capture_output=True, text=True, timeout=120, check=False)


def refused(proc, repo, fragment):
    assert proc.returncode == 1, proc
    assert fragment in proc.stderr, proc.stderr
    assert "nothing was installed" in proc.stderr
    assert work_tree(repo.path) == []


def fake_bin(tmp_path, tools, scripts=None, python=False):
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in tools:
        (folder / tool).symlink_to(shutil.which(tool))
    if python:
        (folder / "python3").symlink_to(os.path.realpath(sys.executable))
    for name, text in (scripts or {}).items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return str(folder)


BASICS = ["sh", "mktemp", "rm", "cp", "cat", "tail", "tr", "dirname"]


def test_installs_from_a_file_url_into_the_named_repo(repo, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = install_sh(repo, "--repo", repo.path, tmpdir=str(scratch))
    assert proc.returncode == 0, proc
    assert "lock gate works" in proc.stdout
    installed = repo.path / ".claude" / "skills" / "agent-sync" / "agent-sync.pyz"
    assert installed.read_bytes() == conftest.PYZ.read_bytes()
    assert (repo.path / ".claude" / "settings.json").is_file()
    assert os.listdir(scratch) == []  # the download folder is cleaned up


def test_works_piped_into_sh_and_from_the_current_directory(repo):
    sub = repo.path / "src"
    sub.mkdir()
    proc = install_sh(repo, piped=True, cwd=sub)
    assert proc.returncode == 0, proc
    assert (repo.path / ".claude" / "settings.json").is_file()
    proc = install_sh(repo, "--repo", repo.path, "--settings", "local", piped=True, url=str(conftest.PYZ))
    assert proc.returncode == 0, proc
    assert (repo.path / ".claude" / "settings.local.json").is_file()


def test_checksum_is_verified_when_given(repo):
    digest = hashlib.sha256(conftest.PYZ.read_bytes()).hexdigest()
    proc = install_sh(repo, "--repo", repo.path, env={"AGENT_SYNC_SHA256": "0" * 64})
    refused(proc, repo, "checksum mismatch")
    proc = install_sh(repo, "--repo", repo.path, env={"AGENT_SYNC_SHA256": digest.upper()})
    assert proc.returncode == 0, proc


@pytest.mark.parametrize("url, fragment", [
    ("file:///nonexistent/agent-sync.pyz", "no such file"),
    ("/nonexistent/agent-sync.pyz", "no such file"),
    ("https://127.0.0.1:9/agent-sync.pyz", "download failed"),
    ("http://example.com/agent-sync.pyz", "refusing plain http"),
    ("ftp://example.com/agent-sync.pyz", "unsupported URL scheme"),
])
def test_a_bad_url_fails_and_writes_nothing(repo, url, fragment):
    refused(install_sh(repo, "--repo", repo.path, url=url), repo, fragment)


def test_a_file_that_is_not_agent_sync_is_refused(repo, tmp_path):
    fake = tmp_path / "agent-sync.pyz"
    fake.write_text("print('hello')\n")
    refused(install_sh(repo, "--repo", repo.path, url=fake.as_uri()), repo, "not agent-sync")
    fake.write_text("raise SystemExit(3)\n")
    refused(install_sh(repo, "--repo", repo.path, url=fake.as_uri()), repo, "does not run")


def test_missing_python3_is_refused(repo, tmp_path):
    path = fake_bin(tmp_path, BASICS)
    refused(install_sh(repo, "--repo", repo.path, env={"PATH": path}), repo, "python3 not found")


def test_old_python3_is_refused(repo, tmp_path):
    old = '#!/bin/sh\ncase "$2" in *print*) echo 3.8 ;; *) exit 1 ;; esac\n'
    path = fake_bin(tmp_path, BASICS, scripts={"python3": old})
    refused(install_sh(repo, "--repo", repo.path, env={"PATH": path}), repo, "Python 3.8")


def test_https_without_curl_or_wget_is_refused(repo, tmp_path):
    path = fake_bin(tmp_path, BASICS, python=True)
    proc = install_sh(repo, "--repo", repo.path, url="https://example.com/agent-sync.pyz", env={"PATH": path})
    refused(proc, repo, "neither curl nor wget")


def test_unknown_options_and_bad_targets_write_nothing(repo, tmp_path):
    refused(install_sh(repo, "--bogus"), repo, "unknown option")
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = install_sh(repo, "--repo", plain)
    assert proc.returncode == 2 and "not inside a git repository" in proc.stderr
    assert os.listdir(plain) == []


def test_help_prints_usage(repo):
    proc = install_sh(repo, "--help")
    assert proc.returncode == 0 and "--repo DIR" in proc.stdout and "AGENT_SYNC_URL" in proc.stdout
