#!/usr/bin/env bash
# A local cluster on 127.0.0.1: PostgreSQL 15 + a Chroma server + two `rag serve` nodes sharing them.
#   scripts/cluster.sh up DIR     start everything under DIR; prints one JSON line
#                                 {"nodes": [...], "postgres": "...", "chroma": "..."}
#   scripts/cluster.sh down DIR   stop everything started under DIR
# The caller's RAG_* variables (e.g. RAG_EMBEDDER=hash) reach the nodes. As root, PostgreSQL runs as
# the unprivileged user pgtest (created if missing), its files in a /tmp/rag-cluster-pg.* folder
# named in DIR/pg.path. Logs: DIR/*.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${RAG_VENV:-$ROOT/.venv}"
cmd="${1:-}"
DIR="${2:-}"
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: $0 up|down DIR" >&2; exit 2; }

PGBIN="${RAG_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
as_pg() {
  if [ "$(id -u)" = 0 ]; then su pgtest -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
free_port() { "$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {  # url, seconds
  local deadline=$((SECONDS + $2))
  until "$VENV/bin/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "cluster: $1 did not answer in $2 s" >&2; return 1; }
    sleep 0.5
  done
}

up() {
  [ -x "$PGBIN/initdb" ] || { echo "cluster: PostgreSQL not found (apt-get install -y postgresql)" >&2; exit 1; }
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  local pg_user PG
  pg_user="$(id -un)"
  # PostgreSQL's files go where its user can reach them (DIR may sit in a root-only folder).
  PG="$(mktemp -d /tmp/rag-cluster-pg.XXXXXX)"
  echo "$PG" >"$DIR/pg.path"
  if [ "$(id -u)" = 0 ]; then
    id pgtest >/dev/null 2>&1 || useradd --system --no-create-home pgtest
    pg_user=pgtest
    chown pgtest "$PG"
  fi
  local pg_port chroma_port
  pg_port="$(free_port)"
  as_pg "'$PGBIN/initdb' -D '$PG/data' -A trust -U $pg_user -E UTF8 >'$PG/initdb.log' 2>&1"
  as_pg "'$PGBIN/pg_ctl' -D '$PG/data' -l '$PG/postgres.log' -w \
    -o '-p $pg_port -k $PG -c listen_addresses=127.0.0.1' start >/dev/null"
  as_pg "'$PGBIN/createdb' -h 127.0.0.1 -p $pg_port -U $pg_user rag"
  local pg_url="postgresql://$pg_user@127.0.0.1:$pg_port/rag"

  chroma_port="$(free_port)"
  "$VENV/bin/chroma" run --path "$DIR/chroma" --host 127.0.0.1 --port "$chroma_port" >"$DIR/chroma.log" 2>&1 &
  echo $! >"$DIR/chroma.pid"
  local chroma_url="http://127.0.0.1:$chroma_port"
  wait_http "$chroma_url/api/v2/heartbeat" 90

  local nodes=() port
  for i in 1 2; do
    port="$(free_port)"
    RAG_DATABASE_URL="$pg_url" RAG_CHROMA_URL="$chroma_url" RAG_INDEX_DIR="$DIR/node$i" \
      "$VENV/bin/rag" serve --host 127.0.0.1 --port "$port" >"$DIR/node$i.log" 2>&1 &
    echo $! >"$DIR/node$i.pid"
    nodes+=("http://127.0.0.1:$port")
  done
  for url in "${nodes[@]}"; do wait_http "$url/api/health" 180; done
  printf '{"nodes": ["%s", "%s"], "postgres": "%s", "chroma": "%s"}\n' "${nodes[0]}" "${nodes[1]}" "$pg_url" "$chroma_url"
}

down() {
  [ -d "$DIR" ] || return 0
  for f in "$DIR"/node*.pid "$DIR"/chroma.pid; do
    [ -f "$f" ] || continue
    pid="$(cat "$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  if [ -f "$DIR/pg.path" ]; then
    PG="$(cat "$DIR/pg.path")"
    if [ -f "$PG/data/postmaster.pid" ]; then
      as_pg "'$PGBIN/pg_ctl' -D '$PG/data' -m fast stop >/dev/null" || true
    fi
    case "$PG" in /tmp/rag-cluster-pg.*) rm -rf "$PG" ;; esac
    rm -f "$DIR/pg.path"
  fi
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
esac
