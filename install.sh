#!/bin/sh
# Install agent-sync into a git repository.
#
#   curl -fsSL https://github.com/agent-sync/agent-sync/releases/latest/download/install.sh | sh
#   curl -fsSL .../install.sh | sh -s -- --repo /path/to/repo
#   sh install.sh [--repo DIR] [other `agent-sync install` options]
#
# AGENT_SYNC_URL     where to get agent-sync.pyz: https:// (default: the latest release), file://, or a path
# AGENT_SYNC_SHA256  expected SHA-256 of the download; checked when set
#
# Nothing is written to the repository unless Python 3.10+ is present, the download
# succeeded, its checksum matches (when given) and the archive runs. The install itself
# then runs `python3 agent-sync.pyz install`, which tests the hooks it wrote.

DEFAULT_URL=https://github.com/agent-sync/agent-sync/releases/latest/download/agent-sync.pyz

main() {
    set -eu
    url=${AGENT_SYNC_URL:-$DEFAULT_URL}
    want_sha=${AGENT_SYNC_SHA256:-}
    repo=
    extra=
    while [ $# -gt 0 ]; do
        case $1 in
            --repo) [ $# -ge 2 ] || die "--repo needs a directory"; repo=$2; shift 2 ;;
            --repo=*) repo=${1#--repo=}; shift ;;
            -h|--help) usage; exit 0 ;;
            --no-hooks|--force|--settings=shared|--settings=local) extra="$extra $1"; shift ;;
            --settings) [ $# -ge 2 ] || die "--settings needs shared or local"; extra="$extra --settings=$2"; shift 2 ;;
            *) die "unknown option: $1 (see sh install.sh --help)" ;;
        esac
    done

    check_python
    tmp=$(mktemp -d 2>/dev/null || mktemp -d -t agent-sync) || die "cannot create a temporary folder"
    trap 'rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
    pyz=$tmp/agent-sync.pyz
    fetch "$url" "$pyz"
    verify "$pyz" "$want_sha"
    say "verified $(python3 "$pyz" --version </dev/null) from $url"
    if [ -n "$repo" ]; then
        # shellcheck disable=SC2086  # $extra holds only the fixed words accepted above
        python3 "$pyz" install --repo "$repo" $extra </dev/null
    else
        # shellcheck disable=SC2086
        python3 "$pyz" install $extra </dev/null
    fi
}

usage() {
    cat <<'USAGE'
usage: sh install.sh [--repo DIR] [--no-hooks] [--settings shared|local] [--force]
       curl -fsSL <url>/install.sh | sh -s -- [options]
Installs agent-sync into the git repository holding DIR (default: the current directory).
  AGENT_SYNC_URL     agent-sync.pyz to install: https://, file:// or a path (default: latest release)
  AGENT_SYNC_SHA256  expected SHA-256 of that file
USAGE
}

say() { printf 'agent-sync install.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; say "nothing was installed"; exit 1; }

check_python() {
    command -v python3 >/dev/null 2>&1 || die "python3 not found on PATH; agent-sync needs Python 3.10 or newer"
    version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' </dev/null 2>/dev/null) \
        || die "python3 on PATH does not run"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' </dev/null 2>/dev/null \
        || die "python3 on PATH is Python $version; agent-sync needs 3.10 or newer (the hooks run python3)"
}

fetch() {
    case $1 in
        file://*) src=$(file_path "$1") || exit 1; copy_local "$src" "$2" ;;
        https://*) download "$1" "$2" ;;
        http://*) die "refusing plain http ($1): use https, file:// or a local path" ;;
        *://*) die "unsupported URL scheme: $1" ;;
        *) copy_local "$1" "$2" ;;
    esac
    [ -s "$2" ] || die "the download from $1 is empty"
}

file_path() {
    path=${1#file://}
    case $path in
        localhost/*) path=/${path#localhost/} ;;
        /*) ;;
        *) die "unsupported file URL (expected file:///absolute/path): $1" ;;
    esac
    # %20 and friends: decode with Python, which is known to be present by now
    case $path in
        *%*) path=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$path" </dev/null) ;;
    esac
    printf '%s\n' "$path"
}

copy_local() {
    [ -f "$1" ] || die "no such file: $1"
    cp "$1" "$2" || die "cannot copy $1"
}

download() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --proto '=https' --tlsv1.2 --retry 2 -o "$2" "$1" </dev/null || die "download failed: $1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q --https-only -O "$2" "$1" </dev/null || die "download failed: $1"
    else
        die "neither curl nor wget found; install one, or set AGENT_SYNC_URL to a local file"
    fi
}

verify() {
    if [ -n "$2" ]; then
        got=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' \
            "$1" </dev/null) || die "cannot compute the checksum"
        want=$(printf '%s' "$2" | tr 'A-F' 'a-f')
        [ "$got" = "$want" ] || die "checksum mismatch: expected $want, got $got"
    fi
    if ! out=$(python3 "$1" --version </dev/null 2>&1); then
        die "the downloaded file does not run: $(printf '%s\n' "$out" | tail -n 1)"
    fi
    case $out in
        "agent-sync "*) ;;
        *) die "the downloaded file is not agent-sync (its --version printed: $out)" ;;
    esac
}

main "$@"
