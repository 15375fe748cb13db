#!/usr/bin/env bash
# A login storm: N kubectl-like runs at once against an authenticator that fails (an
# expired SSO session), as k9s, Lens or a shell loop over namespaces start them. Counts
# how many times the authenticator ran, and checks every run exited with its code.
#
#   benches/login-storm.sh                   # 16 and 100 runs, release build
#   KCC_BIN=path/to/kubecredcache benches/login-storm.sh 16 100
#
# Figures go in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KCC_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet
  bin=target/release/kubecredcache
fi
bin=$(realpath "$bin")
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(16 100)
for n in "${sizes[@]}"; do
  work=$(mktemp -d)
  mkdir -p "$work/bin" "$work/home"
  cat > "$work/bin/aws" <<'SCRIPT'
#!/bin/sh
echo run >> "$CALLS"
sleep 0.5
echo "Error loading SSO Token: Token for my-sso does not exist; run aws sso login" >&2
exit 255
SCRIPT
  chmod +x "$work/bin/aws"
  pids=()
  for i in $(seq "$n"); do
    env -i PATH="$work/bin:/usr/bin:/bin" HOME="$work/home" CALLS="$work/calls" \
      "$bin" aws --region us-west-2 eks get-token --cluster-name c1 \
      >/dev/null 2>"$work/err.$i" &
    pids+=($!)
  done
  codes_ok=0
  for pid in "${pids[@]}"; do
    if wait "$pid"; then :; elif [ $? -eq 255 ]; then codes_ok=$((codes_ok + 1)); fi
  done
  shown=$(grep -l "run aws sso login" "$work"/err.* | wc -l)
  echo "$n parallel runs: $(wc -l < "$work/calls") authenticator runs; $codes_ok exited 255; $shown showed its message"
  rm -rf "$work"
done
