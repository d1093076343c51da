#!/usr/bin/env bash
# Steps 1-5 of the training pipeline (seed 001): generate → submit (and wait) → retrieve → preprocess → render.
# Parameters can be edited here or given in the environment: COUNT=20 bash datagen/run_generate.sh
set -euo pipefail

COUNT="${COUNT:-400}"
SEED="${SEED:-42}"
POLL_INTERVAL="${POLL_INTERVAL:-30}"
PYTHON="${PYTHON:-python}"

cd "$(dirname "$0")/.."

"$PYTHON" -m datagen.generate_batch --count "$COUNT" --seed "$SEED"
"$PYTHON" -m datagen.submit_batch --wait --poll-interval "$POLL_INTERVAL"
"$PYTHON" -m datagen.retrieve_batch
"$PYTHON" -m datagen.preprocess
"$PYTHON" -m datagen.render_txt
