#!/usr/bin/env bash
# Check what `powerlens ui` shows for one trained task, with headless Chromium.
#
#   scripts/ui_screenshot.sh [OUT_DIR] [TASK]        (from the project root; defaults: ui_check, churn)
#
# 1. builds a throwaway project store in a temp folder (POWERLENS_ROOT, its own sqlite MLflow
#    store and pseudonym key): a small synthetic utility (600 accounts x 24 months), features,
#    and TASK trained twice, so the registry has a `champion` and a `challenger`;
# 2. starts `powerlens ui` on 127.0.0.1 (a free port) against that store;
# 3. screenshots, with Debian's chromium (apt-get install chromium when missing):
#      OUT_DIR/1_runs.png       the experiment's runs: the train-TASK parent runs and their children
#      OUT_DIR/2_compare.png    the latest parent's child runs (one per family) side by side
#      OUT_DIR/3_artifacts.png  the parent run's artifacts, curves.png open (plots/, reliability.png ...)
#      OUT_DIR/4_model.png      the registered model powerlens-TASK with its aliases
# 4. stops the server (only the process it started) and removes the temp folder.
# Look at the PNGs: each must show the named page with data, not an empty page or an error.
set -euo pipefail

OUT=${1:-ui_check}
TASK=${2:-churn}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  # the server runs in its own process group (setsid): stop that group, the processes this script
  # started (MLflow's job consumers may ignore TERM: KILL after 10 s)
  if [ -n "$SERVER_PID" ]; then
    kill -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 10); do pgrep -g "$SERVER_PID" > /dev/null || break; sleep 1; done
    kill -9 -- "-$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
  echo "chromium not found: install it with 'apt-get install -y chromium'" >&2
  exit 2
fi

export POWERLENS_ROOT="$WORK" POWERLENS_KEY_FILE="$WORK/pseudonym.key" MLFLOW_DISABLE_TELEMETRY=true
export MLFLOW_TRACKING_URI="sqlite:///$WORK/mlflow.db"
cp "$ROOT/params.yaml" "$WORK/params.yaml"
cd "$ROOT"
PL=(uv run --project "$ROOT" powerlens)

echo "building a small store in $WORK ..."
"${PL[@]}" generate --customers 600 --months 24 --seed 11 --out "$WORK/data/raw" > /dev/null
"${PL[@]}" validate "$WORK/data/raw" --out "$WORK/data/clean" > /dev/null
"${PL[@]}" features --data "$WORK/data/clean" --out "$WORK/data/features" > /dev/null
for _ in 1 2; do
  "${PL[@]}" train "$TASK" --data "$WORK/data/clean" --features "$WORK/data/features" --search-seconds 0 | tail -2
done

PORT=$(uv run --project "$ROOT" python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid "${PL[@]}" ui --host 127.0.0.1 --port "$PORT" > "$WORK/ui.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  if curl -fs "http://127.0.0.1:$PORT/health" > /dev/null; then break; fi
  sleep 1
done
curl -fs "http://127.0.0.1:$PORT/health" > /dev/null || { echo "the MLflow UI did not start:" >&2; cat "$WORK/ui.log" >&2; exit 1; }

# the ids the pages need (experiment, latest parent run, its children)
read -r EXP PARENT CHILDREN < <(uv run --project "$ROOT" python - "$TASK" <<'EOF'
import sys, json, mlflow
task = sys.argv[1]
exp = mlflow.get_experiment_by_name("powerlens-risk")
runs = mlflow.search_runs([exp.experiment_id], filter_string=f"tags.task = '{task}'", order_by=["attributes.start_time DESC"])
parent = runs[runs["tags.mlflow.runName"] == f"train-{task}"].iloc[0]["run_id"]
children = runs[runs["tags.mlflow.parentRunId"] == parent]["run_id"].tolist()
print(exp.experiment_id, parent, json.dumps(children, separators=(",", ":")))
EOF
)

shot() {  # shot FILE URL [HEIGHT]: the page after 15 s of its own (virtual) time; at most 120 s of ours
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$(mktemp -d -p "$WORK")" \
    --virtual-time-budget=15000 --window-size="1600,${3:-1100}" --hide-scrollbars --screenshot="$1" "$2" \
    > /dev/null 2>&1 || true
  if [ -s "$1" ]; then echo "  $1"; else echo "  $1: no screenshot (timed out?)" >&2; FAILED=1; fi
}
FAILED=0
BASE="http://127.0.0.1:$PORT/#"
echo "screenshots:"
shot "$OUT/1_runs.png" "$BASE/experiments/$EXP/runs"
shot "$OUT/2_compare.png" "$BASE/compare-runs?runs=$CHILDREN&experiments=[\"$EXP\"]" 2600
shot "$OUT/3_artifacts.png" "$BASE/experiments/$EXP/runs/$PARENT/artifactPath/curves.png"
shot "$OUT/4_model.png" "$BASE/models/powerlens-$TASK"
exit "$FAILED"
