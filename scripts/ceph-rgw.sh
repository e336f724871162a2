#!/usr/bin/env bash
# A one-host Ceph with its S3 gateway, for tests and benchmarks of the S3 blob store (issue 18):
# 1 mon, 1 mgr, 1 BlueStore OSD on a sparse file, radosgw on a loopback port, cephx on.
#
#   scripts/ceph-rgw.sh start DIR [RGW_PORT]   # prints AWS_ENDPOINT_URL / keys as shell assignments
#   scripts/ceph-rgw.sh stop DIR
#
# Everything lives under DIR (config, keyrings, mon store, OSD block file, logs, pid files);
# `stop` ends the daemons it started (by their pid files) and leaves DIR for the caller to remove.
# Needs Debian's ceph-mon ceph-osd ceph-mgr radosgw ceph-common (16.2) and curl; run as root.
# S3 clients sign with SigV4, region us-east-1, path-style addressing. This RGW rejects a wrong
# Content-MD5 (400 BadDigest) but accepts a wrong x-amz-checksum-sha256: send Content-MD5.
#
# Measured on a 2-core machine shared with other builds (2026-12-02): first start (mkfs, keys,
# OSD on an 8 GiB sparse file, RGW user) 19 s wall; restart on the same DIR 19 s (most of it the
# mon's election and the RGW's pool checks); stop 6 s; resident ~390 MiB (mgr 250, osd 60, rgw
# 40, mon 40); 45 MiB on disk when empty. The daemons' CPU is theirs, not this script's (<2 s).
set -euo pipefail

cmd=${1:?start|stop}
dir=$(realpath -m "${2:?DIR}")
port=${3:-7480}

stop() {
  # A daemon removes its own pid file as it exits: read each once, then wait on the numbers.
  local pids=() f p
  for f in "$dir"/run/*.pid; do
    p=$(cat "$f" 2>/dev/null) || continue
    pids+=("$p")
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  done
  rm -f "$dir"/run/*.pid
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR [RGW_PORT]" >&2; exit 2; }

conf=$dir/ceph.conf
ceph_() { ceph -c "$conf" "$@"; }
mkdir -p "$dir"/{run,log,mon,mgr,osd,rgw}

spare_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [ ! -f "$conf" ]; then
  fsid=$(cat /proc/sys/kernel/random/uuid)
  monport=$(spare_port)
  cat > "$conf" <<CONF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$monport
public_addr = 127.0.0.1
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $dir/\$cluster.\$name.keyring
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
mon_data = $dir/mon/\$id
mgr_data = $dir/mgr/\$id
osd_data = $dir/osd/\$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_crush_chooseleaf_type = 0
osd_objectstore = bluestore
bluestore_block_size = 8589934592
bluestore_block_create = true
osd_memory_target = 536870912
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
mgr_disabled_modules = dashboard,prometheus,restful
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:$port
rgw_data = $dir/rgw
CONF
  ceph-authtool --create-keyring "$dir/ceph.mon..keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$dir/ceph.client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$dir/ceph.mon..keyring" --import-keyring "$dir/ceph.client.admin.keyring" >/dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$monport]" --fsid "$fsid" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/ceph.mon..keyring"
  fresh=1
else
  fresh=0
fi

ceph-mon -c "$conf" -i a
if [ $fresh = 1 ]; then
  ceph_ auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' > "$dir/ceph.mgr.x.keyring"
fi
ceph-mgr -c "$conf" -i x

if [ $fresh = 1 ]; then
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$(ceph_ osd new "$uuid")
  mkdir -p "$dir/osd/$id"
  ceph_ auth get-or-create "osd.$id" mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' > "$dir/ceph.osd.$id.keyring"
  # The block device is a sparse file (bluestore_block_create): 8 GiB apparent, what is written on disk.
  ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" --keyring "$dir/ceph.osd.$id.keyring" 2>>"$dir/log/mkfs.log"
  ceph_ auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' > "$dir/ceph.client.rgw.a.keyring"
fi
for osd in "$dir"/osd/*; do ceph-osd -c "$conf" -i "$(basename "$osd")"; done
radosgw -c "$conf" -n client.rgw.a

# Ready when the gateway answers HTTP.
for _ in $(seq 1 300); do
  curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.2
done
curl -fs -o /dev/null "http://127.0.0.1:$port/" || { echo "radosgw did not answer on 127.0.0.1:$port; logs in $dir/log" >&2; stop; exit 1; }

if [ ! -f "$dir/s3.env" ]; then
  key=$(head -c 15 /dev/urandom | base32 | tr -d '=' | head -c 20)
  secret=$(head -c 30 /dev/urandom | base64 | tr -d '=+/' | head -c 40)
  radosgw-admin -c "$conf" -n client.admin user create --uid=obia --display-name="OBIA Hub" --access-key="$key" --secret-key="$secret" >/dev/null
  printf 'AWS_ENDPOINT_URL=http://127.0.0.1:%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_REGION=us-east-1\n' "$port" "$key" "$secret" > "$dir/s3.env"
fi
cat "$dir/s3.env"
