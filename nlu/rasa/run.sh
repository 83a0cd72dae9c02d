#!/usr/bin/env bash
# Set up, train and serve the Rasa 3.6 NLU backend (the embedded parser needs none of this).
#   nlu/rasa/run.sh setup   venv with rasa==3.6.21 + jieba under $BUTLER_CACHE_DIR (reused)
#   nlu/rasa/run.sh train   `rasa train nlu`, reusing the model while data+config are unchanged
#   nlu/rasa/run.sh serve   `rasa run --enable-api` on 127.0.0.1:$RASA_PORT (foreground)
#   nlu/rasa/run.sh model   print the path of the model for the current data+config
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="${BUTLER_CACHE_DIR:-$HOME/.cache/butler}"
VENV="${RASA_VENV:-$CACHE/rasa-venv}"
PORT="${RASA_PORT:-5005}"
RASA_VERSION="3.6.21"
MODELS="$CACHE/rasa-models"

# Rasa writes to HOME and TMPDIR and phones home unless told not to: keep all of it in the cache.
export HOME="$CACHE/rasa-home" TMPDIR="$CACHE/rasa-tmp"
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore
export SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p "$HOME" "$TMPDIR" "$MODELS"

find_python() {
  # Each candidate is run, not just tested for existence: pyenv's python3.10 shim exists on PATH
  # but fails unless 3.10 is the selected version.
  local py
  for py in "${RASA_PYTHON:-}" "$(command -v python3.10 || true)" \
            "$REAL_HOME"/.pyenv/versions/3.10.*/bin/python /root/.pyenv/versions/3.10.*/bin/python; do
    if [ -n "$py" ] && [ -x "$py" ] \
        && "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; then
      echo "$py"; return 0
    fi
  done
  echo "rasa: no Python 3.10 found (set RASA_PYTHON)" >&2; return 1
}
REAL_HOME="${REAL_HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"

setup() {
  if [ -x "$VENV/bin/rasa" ] && "$VENV/bin/python" -c "import rasa, jieba, sys; sys.exit(rasa.__version__ != '$RASA_VERSION')" 2>/dev/null; then
    return 0
  fi
  local py; py="$(find_python)"
  echo "rasa: creating venv $VENV with $py (slow the first time: tensorflow)" >&2
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "rasa==$RASA_VERSION" jieba >&2
}

model_key() {
  cat "$ROOT/nlu/data/nlu.yml" "$ROOT/nlu/data/oos.yml" "$ROOT/nlu/data/real_indomain.yml" "$HERE/short_lines.py" "$HERE/config.yml" "$HERE/domain.yml" | { cat; echo "rasa=$RASA_VERSION"; } \
    | sha256sum | cut -c1-16
}

model_path() { echo "$MODELS/nlu-$(model_key).tar.gz"; }

train() {
  local model; model="$(model_path)"
  if [ -s "$model" ]; then echo "rasa: reusing $model" >&2; return 0; fi
  setup
  echo "rasa: training $model" >&2
  local work; work="$(mktemp -d)"
  # the same training set as the embedded parser: nlu.yml, the out-of-scope examples and the real
  # residents' lines, the long letters among them left out (short_lines.py says why); the test
  # and eval files beside them stay out; at parse time the client sends cleaned text
  mkdir -p "$work/data"
  cp "$ROOT/nlu/data/nlu.yml" "$ROOT/nlu/data/oos.yml" "$work/data/"
  "$VENV/bin/python" "$HERE/short_lines.py" "$ROOT/nlu/data/real_indomain.yml" "$work/data/real_indomain.yml"
  (cd "$work" && "$VENV/bin/rasa" train nlu --config "$HERE/config.yml" --nlu "$work/data" \
      --domain "$HERE/domain.yml" --out "$work/models" --fixed-model-name model >&2)
  mv "$work/models/model.tar.gz" "$model.tmp" && mv "$model.tmp" "$model"
  rm -rf "$work"
}

serve() {
  train
  cd "$TMPDIR"
  exec "$VENV/bin/rasa" run --enable-api -i 127.0.0.1 -p "$PORT" -m "$(model_path)"
}

case "${1:-}" in
  setup) setup ;;
  train) train ;;
  serve) serve ;;
  model) model_path ;;
  *) echo "usage: $0 setup|train|serve|model" >&2; exit 2 ;;
esac
