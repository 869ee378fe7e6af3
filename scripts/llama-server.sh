#!/usr/bin/env bash
# Print the path of a working llama.cpp `llama-server` binary (last line of stdout),
# building it from source if needed.
#
#   scripts/llama-server.sh          path of llama-server (PATH, cache, or a fresh build)
#   scripts/llama-server.sh --src    path of the cached llama.cpp source tree (fetched if
#                                    needed, not built); make-random-model.sh uses it
#
# The llama.cpp source comes from the npm package node-llama-cpp, which ships it as a git
# bundle (llama/gitRelease.bundle) together with the release tag it was taken from
# (llama/binariesGithubRelease.json). Only Debian packages and the npm registry are needed.
#
# Environment:
#   KOEVAL_CACHE                cache root (default: $HOME/.cache/koeval)
#   KOEVAL_NODE_LLAMA_CPP       node-llama-cpp version to take the source from (default 3.21.1)
#   KOEVAL_LLAMA_CPP_TAG        llama.cpp release tag that package must carry (default v0.4.0)
#   KOEVAL_BUILD_JOBS           parallel compile jobs (default 2)
#   KOEVAL_IGNORE_PATH=1        do not use a llama-server found on PATH
#
# Progress goes to stderr; on failure one line "llama-server.sh: error: ..." and exit 1.
set -euo pipefail

NLC_VERSION="${KOEVAL_NODE_LLAMA_CPP:-3.21.1}"
TAG="${KOEVAL_LLAMA_CPP_TAG:-v0.4.0}"
JOBS="${KOEVAL_BUILD_JOBS:-2}"
CACHE="${KOEVAL_CACHE:-${HOME:-/tmp}/.cache/koeval}"
DIR="$CACHE/llama-server-$TAG"
BIN="$DIR/llama-server"
SRC="$DIR/src"

log() { printf 'llama-server.sh: %s\n' "$*" >&2; }
die() { printf 'llama-server.sh: error: %s\n' "$*" >&2; exit 1; }

mode=bin
case "${1:-}" in
    "") ;;
    --src) mode=src ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) die "unknown argument '$1' (expected nothing or --src)" ;;
esac

runs() { "$1" --version >/dev/null 2>&1; }

# --- 1. a llama-server on PATH, or an already cached one: no lock needed -------------------
if [ "$mode" = bin ]; then
    if [ "${KOEVAL_IGNORE_PATH:-0}" != 1 ] && onpath="$(command -v llama-server 2>/dev/null)"; then
        log "using llama-server from PATH"
        printf '%s\n' "$onpath"
        exit 0
    fi
    if [ -x "$BIN" ] && runs "$BIN"; then
        printf '%s\n' "$BIN"
        exit 0
    fi
elif [ -f "$SRC/.koeval-src-ok" ]; then
    printf '%s\n' "$SRC"
    exit 0
fi

# --- 2. fetch / build under locks, so that concurrent callers do each step once ----------
mkdir -p "$DIR" || die "cannot create cache directory $DIR"
command -v flock >/dev/null 2>&1 || die "flock not found (Debian package util-linux)"

# lock FD NAME: take $DIR/NAME.lock on file descriptor FD, saying so when we must wait.
lock() {
    eval "exec $1>\"\$DIR/.$2.lock\"" || die "cannot open lock file $DIR/.$2.lock"
    if ! flock -n "$1"; then
        log "another process holds $DIR/.$2.lock; waiting for it"
        flock "$1" || die "cannot lock $DIR/.$2.lock"
    fi
}

# Install the missing build tools from Debian (only as root; otherwise say what is missing).
need_tools() {
    local missing=() t pkg
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 && continue
        case "$t" in
            g++) pkg=g++ ;; cc) pkg=gcc ;; npm) pkg=npm ;; *) pkg="$t" ;;
        esac
        missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "missing build tools: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing build tools: ${missing[*]} and no apt-get"
    log "installing from Debian: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || die "apt-get install ${missing[*]} failed"
}

fetch_source() {
    lock 8 src
    [ -f "$SRC/.koeval-src-ok" ] && { exec 8>&-; return 0; }
    need_tools git npm tar node
    local tmp
    tmp="$(mktemp -d "$DIR/.fetch.XXXXXX")" || die "cannot create a temporary directory in $DIR"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    log "fetching node-llama-cpp@$NLC_VERSION from npm (it carries the llama.cpp source)"
    (cd "$tmp" && npm pack --silent "node-llama-cpp@$NLC_VERSION" >/dev/null 2>"$tmp/npm.log") \
        || die "npm pack node-llama-cpp@$NLC_VERSION failed: $(tail -n 1 "$tmp/npm.log")"
    local tgz
    tgz="$(find "$tmp" -maxdepth 1 -name 'node-llama-cpp-*.tgz' | head -n 1)"
    [ -n "$tgz" ] || die "npm pack produced no tarball"
    tar -xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle package/llama/binariesGithubRelease.json \
        || die "node-llama-cpp@$NLC_VERSION has no llama/gitRelease.bundle"
    local found
    found="$(node -e 'process.stdout.write(String(require(process.argv[1]).release||""))' \
        "$tmp/package/llama/binariesGithubRelease.json")" \
        || die "cannot read llama/binariesGithubRelease.json"
    [ "$found" = "$TAG" ] \
        || die "node-llama-cpp@$NLC_VERSION carries llama.cpp $found, expected $TAG (set KOEVAL_LLAMA_CPP_TAG=$found to accept it)"
    local bundle="$tmp/package/llama/gitRelease.bundle" head
    git bundle verify -q "$bundle" >/dev/null 2>&1 || die "the git bundle in node-llama-cpp@$NLC_VERSION is not valid"
    head="$(git bundle list-heads "$bundle" | awk '$2=="HEAD"{print $1}' | head -n 1)"
    [ -n "$head" ] || head="$(git bundle list-heads "$bundle" | awk 'NR==1{print $1}')"
    [ -n "$head" ] || die "the git bundle lists no refs"
    log "cloning llama.cpp $TAG (commit ${head:0:12}) into $SRC"
    rm -rf "$SRC" "$SRC.tmp"
    git clone -q --no-checkout "$bundle" "$SRC.tmp" >&2 || die "git clone of the bundle failed"
    git -C "$SRC.tmp" -c advice.detachedHead=false checkout -q "$head" >&2 || die "git checkout $head failed"
    printf '%s\n' "$TAG" >"$SRC.tmp/.koeval-src-ok"
    mv "$SRC.tmp" "$SRC"
    rm -rf "$tmp"
    trap - EXIT
    exec 8>&-
}

fetch_source
if [ "$mode" = src ]; then printf '%s\n' "$SRC"; exit 0; fi

lock 9 build
# Another caller may have built it while we waited.
if [ -x "$BIN" ] && runs "$BIN"; then printf '%s\n' "$BIN"; exit 0; fi

need_tools cmake make g++ cc git

# Pass only the options this source tree knows.
known() { grep -rqw --include=CMakeLists.txt --include='*.cmake' -e "$1" "$SRC"; }
opts=(-DCMAKE_BUILD_TYPE=Release)
for kv in BUILD_SHARED_LIBS=OFF GGML_NATIVE=OFF GGML_CPU=ON GGML_CCACHE=OFF LLAMA_BUILD_IS_DEV=OFF \
          LLAMA_USE_PREBUILT_UI=OFF LLAMA_BUILD_UI=OFF LLAMA_OPENSSL=OFF LLAMA_CURL=OFF \
          LLAMA_BUILD_TESTS=OFF LLAMA_BUILD_EXAMPLES=OFF LLAMA_BUILD_SERVER=ON LLAMA_BUILD_TOOLS=ON; do
    if [ "${kv%%=*}" = BUILD_SHARED_LIBS ] || known "${kv%%=*}"; then opts+=("-D$kv"); fi
done

build="$DIR/build"
rm -rf "$build"
logf="$DIR/build.log"
log "configuring llama.cpp $TAG (CPU only, static); log: $logf"
start=$(date +%s)
cmake -S "$SRC" -B "$build" "${opts[@]}" >"$logf" 2>&1 \
    || die "cmake configure failed; see $logf"
log "building llama-server with $JOBS jobs (6-9 minutes on 2 cores)"
cmake --build "$build" --target llama-server -j "$JOBS" >>"$logf" 2>&1 \
    || die "build failed; see $logf"
built="$build/bin/llama-server"
[ -x "$built" ] || built="$(find "$build" -type f -name llama-server -perm -u+x | head -n 1)"
if [ -z "$built" ] || [ ! -x "$built" ]; then die "build finished but no llama-server binary was found"; fi
# The build is static (BUILD_SHARED_LIBS=OFF): the binary needs no library of the build tree,
# only system ones (libc, libstdc++, libgomp), so it can be copied alone.
if ldd "$built" 2>/dev/null | grep -q -F "$build/"; then
    die "llama-server links shared libraries of the build tree; a static build was expected"
fi
cp "$built" "$BIN.tmp"
rm -rf "$build"
runs "$BIN.tmp" || die "the built llama-server does not run; see $logf"
mv -f "$BIN.tmp" "$BIN"
log "built $BIN in $(( $(date +%s) - start )) s"
printf '%s\n' "$BIN"
