#!/usr/bin/env bash
# The benchmark suite of aria-io against tokio, async-process (smol's parts) and std.
#
# Scenarios: spawn exit-latency idle output pipe-copy pipeline tasks yield timers channel
# fanout par-map echo http ash-loop ash-spawn ash-startup ash-prompt ash-idle. Every scenario but par-map and the
# ash ones runs aria-io as aria-epoll / aria-uring (current-thread), aria-mt (multi-thread, workers = nproc) and aria-tpc (thread-per-core,
# cores = nproc); fanout adds aria-mt1 (one worker) for the scaling, and its cpu variant runs
# on the multi-thread flavours only (aria-mt, aria-mt1, aria-tpc, tokio). par-map awaits
# aria_io::rayon::par_map (the crate's `rayon` feature) on aria-mt against tokio
# spawn_blocking chunks and a sequential loop. echo is loopback TCP ping-pong against a load
# generator in another process (bench-echo-client, pinned to the other CPU), also on tokio's
# per-core layout (tokio-ct-per-core), monoio and compio; 1 s per point (--window-ms MS to
# change it), about 5 minutes of the full run. http is a hyper 1.x HTTP/1.1 hello-world
# server (one task per connection) on every aria-io flavour, tokio (multi-thread, TokioIo)
# and tokio-ct-per-core, loaded by wrk (`taskset -c 1 wrk -t1 -cN --latency`) at 64 and 256
# connections, 3 s per point (--window-ms, rounded up to seconds), about 2 minutes of the
# full run; wrk is installed here when missing and apt-get works (otherwise the http
# measurements fail saying so, and --quick skips them). The ash scenarios run ariash (the
# shell built on aria-io; built here, release for the full run and debug with --quick, next
# to aria-bench) against bash, dash, fish and python3 as whole processes: a 1,000,000-
# iteration loop, 20,000 sequential spawns of true, `-c` start-up, the interactive shell's
# first prompt on a pseudo-terminal (against bash -i) and ariash's idle REPL with 500
# background jobs (wake-ups, CPU, notice latency); an interpreter that
# is not installed loses its rows with a note. The rows, sizes (full and --quick) and
# targets are in crates/aria-bench/src/report.rs.
#
# Runs every scenario for every runtime in alternation (A B C A B C ...), 3 rounds by default,
# each measurement in a fresh process, then prints the tables of medians and of round-by-round
# ratios aria/peer and writes them, with the syscall counts from strace when it is installed,
# to docs/benchmarks.md.
#
#   scripts/bench.sh                      full run, release build (~19 minutes on 2 cores)
#   scripts/bench.sh --quick              tiny sizes, one round, debug build: the CI smoke test
#                                         (prints the tables, writes no file unless --out is given)
#   scripts/bench.sh --only spawn,output  some scenarios only
#   scripts/bench.sh --only fanout,par-map the multi-thread runtime's own scenarios
#   scripts/bench.sh --only echo --window-ms 3000   the echo points only, 3 s each
#   scripts/bench.sh --only http          hyper on aria-io and tokio against wrk
#   scripts/bench.sh --only ash-loop,ash-spawn,ash-startup   ariash against the shells
#   scripts/bench.sh --rounds 5 --no-strace --out /tmp/bench.md
#
# Any other option is passed to `aria-bench --all` (see `aria-bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
has_out=0
want_http=1
want_ash=1
prev=
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --out) has_out=1 ;;
  esac
  if [ "$prev" = --only ]; then
    case ",$arg," in
      *,http,*) want_http=1 ;;
      *) want_http=0 ;;
    esac
    case ",$arg," in
      *,ash-*) want_ash=1 ;;
      *) want_ash=0 ;;
    esac
  fi
  prev="$arg"
done

# The http scenario's load generator (the Debian package wrk). Installing it must not fail
# the run: without it the http measurements report the error (--quick skips them).
if [ "$want_http" = 1 ] && ! command -v wrk >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null 2>&1 ||
      echo "bench.sh: could not install wrk (apt-get install -y wrk); the http scenario needs it" >&2
  else
    echo "bench.sh: wrk is not installed and there is no apt-get; the http scenario needs it" >&2
  fi
fi

# The ash scenarios' ariash is found next to aria-bench, so it is built with the same profile.
packages=(-p aria-bench)
if [ "$want_ash" = 1 ]; then
  packages+=(-p ariash)
fi
target="${CARGO_TARGET_DIR:-target}"
if [ "$quick" = 1 ]; then
  cargo build -q "${packages[@]}" --bins
  bin="$target/debug/aria-bench"
  out=()
else
  cargo build -q --release "${packages[@]}" --bins
  bin="$target/release/aria-bench"
  out=(--out docs/benchmarks.md)
fi
if [ "$has_out" = 1 ]; then
  out=()
fi

exec "$bin" --all "${out[@]}" --command "scripts/bench.sh${*:+ $*}" "$@"
