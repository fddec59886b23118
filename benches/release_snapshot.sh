#!/usr/bin/env bash
# Builds a release wheel of the current tree and unpacks it into DIR (default .bench/snapshot), so
# benchmarks can run against an optimized build that no concurrent `maturin develop` (debug) in a
# shared checkout can replace mid-run:
#
#   benches/release_snapshot.sh /tmp/uh-snap
#   PYTHONPATH=/tmp/uh-snap python -m pytest benches --benchmark-only
#   PYTHONPATH=/tmp/uh-snap python benches/router_overhead.py
#
# PYTHONPATH entries precede the editable install's .pth path, so `import unhardcoded` resolves to
# the snapshot (its Python sources and native module as of the build). The build takes the same
# lock as every other build of the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-.bench/snapshot}
wheels=$(mktemp -d)
trap 'rm -rf "$wheels"' EXIT
flock /tmp/uh-build.lock maturin build --release -q -o "$wheels" >&2
wheel=$(ls "$wheels"/unhardcoded-*.whl)
rm -rf "$dest"
mkdir -p "$dest"
python - "$wheel" "$dest" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
echo "snapshot of $(git rev-parse --short HEAD) (+ uncommitted changes) in $dest from $(basename "$wheel")" >&2
echo "$dest"
