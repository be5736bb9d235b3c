#!/usr/bin/env bash
# Installs Ceph's radosgw + a monitor and an OSD (Debian packages) so the S3 plugin tests can run a
# real S3-compatible server on 127.0.0.1. Idempotent: does nothing when the binaries are present.
set -euo pipefail
need=()
for bin in radosgw ceph-mon ceph-osd radosgw-admin ceph monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "setup-s3: radosgw, ceph-mon and ceph-osd already installed"
  exit 0
fi
echo "setup-s3: installing radosgw ceph-mon ceph-osd (missing: ${need[*]})"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Quiet when it works; the whole apt output when it does not.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup-s3: apt-get could not install radosgw ceph-mon ceph-osd" >&2
  exit 1
fi
for bin in radosgw ceph-mon ceph-osd radosgw-admin ceph monmaptool; do
  command -v "$bin" >/dev/null 2>&1 || { echo "setup-s3: $bin still missing after install" >&2; exit 1; }
done
echo "setup-s3: done ($(radosgw --version 2>/dev/null | head -n1))"
