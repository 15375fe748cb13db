#!/usr/bin/env bash
# Counts the instructions of one cache hit, and of `cat` of the same cache file, with
# callgrind (exact and repeatable, whatever else the machine is doing). The environment
# is fixed (env -i) and the authenticator is a stand-in that prints an EKS-sized token,
# so two builds can be compared instruction for instruction.
#
#   benches/hit-instructions.sh                  # builds the release binary first
#   KCC_BIN=path/to/kubecredcache benches/hit-instructions.sh
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
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/home/.aws/sso/cache" "$work/home/.aws/cli/cache"
printf '[default]\nregion = us-west-2\n' > "$work/home/.aws/config"
printf '[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n' > "$work/home/.aws/credentials"
token="k8s-aws-v1.$(head -c 900 /dev/zero | tr '\0' 'A')"
cat > "$work/bin/aws" <<SCRIPT
#!/bin/sh
expires=\$(date -u -d "@\$(( \$(date +%s) + 900 ))" +%Y-%m-%dT%H:%M:%SZ)
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"%s","token":"%s"}}\n' "\$expires" "$token"
SCRIPT
chmod +x "$work/bin/aws"
run() {
  env -i PATH="$work/bin:/usr/bin:/bin" HOME="$work/home" KUBECREDCACHE_DIR="$work/cache" \
    AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
    "$@"
}
args=(aws --region us-west-2 eks get-token --cluster-name c1)
run "$bin" "${args[@]}" >/dev/null          # fill the cache
count() {
  run valgrind --tool=callgrind --callgrind-out-file="$work/out" "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
hit=$(count "$bin" "${args[@]}")
cat=$(count cat "$work/cache/cache-c1.yaml")
echo "hit: $hit instructions"
echo "cat: $cat instructions (the same cache file)"
