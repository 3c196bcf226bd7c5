#!/usr/bin/env bash
# Generate the typed clients from the app's OpenAPI document into OUT (default: clients/):
#   OUT/openapi.json               the document (python -m scripts.openapi, no server)
#   OUT/python/                    openapi-python-client (clients/openapi-python-client.yaml)
#   OUT/typescript/schema.d.ts     openapi-typescript, then checked by tsc
# `make client` writes clients/; `make client-check` writes a temporary OUT and diffs it.
# Both generators and ruff (their formatter) are pinned, so the output is byte-for-byte stable.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/clients}" && cd "${1:-$ROOT/clients}" && pwd)"
BIN="$ROOT/.venv/bin"
NODE_BIN="$ROOT/clients/node_modules/.bin"

cd "$ROOT"
"$BIN/python" -m scripts.openapi > "$OUT/openapi.json.tmp"
mv "$OUT/openapi.json.tmp" "$OUT/openapi.json"

rm -rf "$OUT/python"
# The generator's post hooks (ruff) run inside OUT/python: put the pinned ruff on PATH.
(cd "$OUT" && PATH="$BIN:$PATH" "$BIN/openapi-python-client" generate --path openapi.json \
    --meta uv --config "$ROOT/clients/openapi-python-client.yaml" --output-path python \
    --fail-on-warning >/dev/null)

mkdir -p "$OUT/typescript"
"$NODE_BIN/openapi-typescript" "$OUT/openapi.json" -o "$OUT/typescript/schema.d.ts" >/dev/null
"$NODE_BIN/tsc" --noEmit --strict --skipLibCheck false "$OUT/typescript/schema.d.ts"
