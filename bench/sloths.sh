#!/bin/sh
# Peak memory of an RTCA binary while never-reading sockets ask for heavy
# history (bench/src/bin/sloths.rs): starts BINARY on a free port with a
# fresh database, seeds it, runs the sloths, prints one line of JSON.
#   bench/sloths.sh target/release/rtca [--sloths 8 --seconds 40 --messages 500]
set -eu
bin=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Only the seeding needs more than the defaults: one writer posts 500
# messages at once. Every limit the sloths meet stays at its default.
RTCA_ADDR=127.0.0.1:$port RTCA_DATABASE_URL=sqlite://$dir/db RTCA_MEDIA_DIR=$dir/media \
  RTCA_RATE_SEND_CONNECTION=100000:100000 RTCA_RATE_SEND_USER=100000:100000 RUST_LOG=warn \
  "$bin" >"$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
"$here/target/release/rtca-sloths" --url "http://127.0.0.1:$port" --pid $pid "$@"
