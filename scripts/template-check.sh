#!/usr/bin/env bash
# `make template-check` (docs/template.md), from the current commit (commit first):
#  1. the full project the template makes (name plinth, the example kept) is this repository;
#  2. the project it makes without the example passes its lint, types and embedded test leg;
#  3. such a project made from an older commit, with a local change, takes `copier update` to
#     this commit without a conflict and ends as a fresh copy plus that change.
# TEMPLATE_CHECK_FROM=<commit> picks the older commit (default: the first with copier.yml).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/.venv/bin"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export GIT_AUTHOR_NAME=template-check GIT_AUTHOR_EMAIL=check@localhost
export GIT_COMMITTER_NAME=template-check GIT_COMMITTER_EMAIL=check@localhost

# A clone, so the tags below stay out of the real repository's refs.
git clone -q "$ROOT" "$WORK/template"
FROM="${TEMPLATE_CHECK_FROM:-$(git -C "$ROOT" log --diff-filter=A --format=%H -- copier.yml | tail -1)}"
git -C "$WORK/template" tag v0.0.0 "$FROM"
git -C "$WORK/template" tag v0.0.1 HEAD

make_project() {  # make_project <dir> <ref> <name> <example>
	"$BIN/copier" copy --quiet --vcs-ref "$2" --defaults --data "name=$3" --data "example=$4" \
		"$WORK/template" "$1"
	git -C "$1" init -q && git -C "$1" add -A && git -C "$1" commit -qm "made by copier"
}

echo "template-check: 1/3 the full project is this repository"
make_project "$WORK/full" HEAD plinth true
git -C "$WORK/template" ls-files | grep -v -e '^copier\.yml$' -e '\.jinja$' \
	-e '^scripts/template-check\.sh$' | sort > "$WORK/expected"
git -C "$WORK/full" ls-files | grep -v '^\.copier-answers\.yml$' | sort > "$WORK/made"
diff -u "$WORK/expected" "$WORK/made"
while IFS= read -r path; do
	cmp -s "$WORK/template/$path" "$WORK/full/$path" || {
		echo "$path: the template renders it differently from the repository's copy" \
			"(a plain file and its .jinja sibling must agree: edit both)" >&2
		diff -u "$WORK/template/$path" "$WORK/full/$path" >&2 || true
		exit 1
	}
done < "$WORK/expected"

echo "template-check: 2/3 the project without the example: lint, types, embedded leg"
# The tests that go through what the example plugged into: the migration chain, the app's
# routes, jobs, imports, settings and docs, the scaffold, the event stream's socket (a stream
# and client frame of a toy entity's own). TEMPLATE_CHECK_TESTS=all runs the whole embedded
# leg (7 to 14 minutes on 2 busy cores, against about 2 for these).
WIRING_TESTS=(
	tests/core/test_migrations.py tests/core/test_jobs_maintenance.py tests/core/test_versioning.py
	tests/routers/test_openapi.py tests/test_unconfigured_imports.py tests/deploy/test_compose.py
	tests/scaffold/test_scaffold.py tests/realtime/test_own_streams.py tests/docs/test_docs.py
)
SERVICE="$WORK/service"
make_project "$SERVICE" HEAD service-check false
ln -s "$ROOT/.venv" "$SERVICE/.venv"
[ -d "$ROOT/tests/oidc/node_modules" ] && ln -s "$ROOT/tests/oidc/node_modules" "$SERVICE/tests/oidc/"
[ -d "$ROOT/.mypy_cache" ] && cp -r "$ROOT/.mypy_cache" "$SERVICE/"  # warm: only changes re-checked
(
	cd "$SERVICE"
	"$BIN/ruff" check --quiet .
	"$BIN/ruff" format --check --quiet .
	"$BIN/mypy"
	export PLINTH_TEST_LEG=embedded
	"$BIN/pytest" -q -p no:cacheprovider --collect-only >/dev/null  # every test file imports
	if [ "${TEMPLATE_CHECK_TESTS:-}" = all ]; then
		"$BIN/pytest" -q -p no:cacheprovider
	else  # what leaving the example out can break; the rest is the same code as here
		"$BIN/pytest" -q -p no:cacheprovider "${WIRING_TESTS[@]}"
	fi
)

echo "template-check: 3/3 copier update from $(git -C "$ROOT" log -1 --format='%h %s' "$FROM" | cut -c1-60)"
OLD="$WORK/old"
make_project "$OLD" v0.0.0 service-check false
echo "A line of the service's own." >> "$OLD/README.md"
echo "Notes of the service's own." > "$OLD/NOTES.md"
git -C "$OLD" add -A && git -C "$OLD" commit -qm "own changes"
(cd "$OLD" && "$BIN/copier" update --quiet --defaults --vcs-ref HEAD --conflict rej)
if git -C "$OLD" status --porcelain | grep -E '\.rej$|^(UU|AA) '; then
	echo "copier update left conflicts" >&2
	exit 1
fi
git -C "$OLD" add -A && git -C "$OLD" commit -qm "copier update" --allow-empty
tail -n 1 "$OLD/README.md" | grep -qx "A line of the service's own."
git clone -q "$SERVICE" "$WORK/fresh"  # what the template makes now, without the test runs' files
diff -r -q -x .git -x .copier-answers.yml -x README.md -x NOTES.md "$OLD" "$WORK/fresh"
diff -q <(head -n -1 "$OLD/README.md") "$WORK/fresh/README.md"
echo "template-check: ok"
