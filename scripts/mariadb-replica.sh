#!/usr/bin/env bash
# A MariaDB GTID replica for read replicas (issue 18), on loopback, in a directory of its own:
#
#   scripts/mariadb-replica.sh primary DIR PORT                  a primary that writes a GTID binlog
#   scripts/mariadb-replica.sh start   DIR PORT [HOST:PORT]      a replica of that primary (default 127.0.0.1:3306)
#   scripts/mariadb-replica.sh stop    DIR                       stops the server started in DIR
#
# The primary must write a binlog (log_bin=1); the machine's own 127.0.0.1:3306 may not, hence
# `primary`. A replica starts from the primary's first binlog event (gtid_slave_pos empty), so
# it suits a primary started here, or one whose binlog holds its whole history. Both servers
# listen on 127.0.0.1 only, keep everything under DIR (data, socket, pid, error log) and accept
# root without a password from 127.0.0.1 — for tests and the one-machine deployment test, not
# for production. `stop` is a clean shutdown and waits for it.
set -euo pipefail

usage() { sed -n '2,14p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$(realpath -m "$2")
sock="$dir/mysqld.sock"
client() { mariadb --no-defaults --socket="$sock" -uroot "$@"; }

launch() {
  local port=$1; shift
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --auth-root-authentication-method=normal \
      --skip-test-db --user="$(id -un)" >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
  fi
  # The server id is the port: unique among the servers of one machine.
  mariadbd --no-defaults --datadir="$dir/data" --port="$port" --bind-address=127.0.0.1 --socket="$sock" \
    --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" --user="$(id -un)" --server-id="$port" \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci "$@" \
    </dev/null >/dev/null 2>&1 &
  # mariadb-admin retries the connection itself, once a second, until the server answers.
  if ! mariadb-admin --no-defaults --socket="$sock" -uroot --wait=60 --connect-timeout=2 ping >/dev/null 2>&1; then
    echo "mariadbd on port $port did not start; see $dir/error.log" >&2
    tail -n 20 "$dir/error.log" >&2 || true
    exit 1
  fi
  # Root over TCP from 127.0.0.1 (skip-name-resolve matches by address), kept out of the binlog.
  client -e "SET sql_log_bin=0; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
}

case "$cmd" in
  primary)
    [ $# -eq 3 ] || usage
    launch "$3" --log-bin="$dir/data/binlog" --binlog-format=ROW --gtid-strict-mode=1
    echo "primary on 127.0.0.1:$3 ($dir)"
    ;;
  start)
    [ $# -ge 3 ] || usage
    source=${4:-127.0.0.1:3306}
    host=${source%:*}
    sport=${source##*:}
    binlog=$(mariadb --no-defaults -h "$host" -P "$sport" -uroot -N -e 'SELECT @@log_bin')
    if [ "$binlog" != 1 ]; then
      echo "the primary at $source writes no binlog, so it cannot be replicated: start one with '$0 primary DIR PORT'" >&2
      exit 1
    fi
    launch "$3" --relay-log="$dir/data/relay" --read-only=1 --skip-slave-start
    client -e "CHANGE MASTER TO MASTER_HOST='$host', MASTER_PORT=$sport, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos; START SLAVE;"
    echo "replica of $source on 127.0.0.1:$3 ($dir)"
    ;;
  stop)
    [ -S "$sock" ] || { echo "no server running in $dir" >&2; exit 0; }
    # Waits until the server has shut down.
    mariadb-admin --no-defaults --socket="$sock" -uroot shutdown
    ;;
  *) usage ;;
esac
