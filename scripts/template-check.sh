#!/usr/bin/env bash
# `make template-check` (docs/template.md), from the current commit (commit first):
#  1. the full project the template makes (name plinth, the example kept) is this repository;
#  2. the project it makes without the example passes its own `make test`;
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

echo "template-check: 2/3 the project without the example passes its own make test"
# Its `make test`: lint, types, docs, both test legs. TEMPLATE_CHECK_TESTS=wiring runs, on the
# embedded leg only, just the tests that go through what the example plugged into (about two
# minutes instead of the whole suite): the migration chain, the app's routes, jobs, imports,
# settings and docs, the scaffold, the event stream's socket.
WIRING_TESTS=(
	tests/core/test_migrations.py tests/core/test_jobs_maintenance.py tests/core/test_versioning.py
	tests/routers/test_openapi.py tests/routers/test_users.py tests/test_unconfigured_imports.py
	tests/deploy/test_compose.py tests/scaffold/test_scaffold.py tests/realtime/test_own_streams.py
	tests/conformance/test_conformance.py tests/docs/test_docs.py
)
SERVICE="$WORK/service"
make_project "$SERVICE" HEAD service-check false
ln -s "$ROOT/.venv" "$SERVICE/.venv"
[ -d "$ROOT/tests/oidc/node_modules" ] && ln -s "$ROOT/tests/oidc/node_modules" "$SERVICE/tests/oidc/"
# The same pinned files as here, installed already: stamps newer than the copies just made, so
# its make neither reinstalls into the shared venv nor runs `npm ci` through the symlink.
for stamp in .venv/.dev .venv/.runtime .venv/.chromium tests/oidc/node_modules/.package-lock.json; do
	if [ -e "$ROOT/$stamp" ]; then touch "$ROOT/$stamp"; fi
done
[ -d "$ROOT/.mypy_cache" ] && cp -r "$ROOT/.mypy_cache" "$SERVICE/"  # warm: only changes re-checked
(
	cd "$SERVICE"
	unset PLINTH_TESTS_RUN_BY_TEMPLATE
	if [ "${TEMPLATE_CHECK_TESTS:-}" = wiring ]; then
		"$BIN/ruff" check --quiet .
		"$BIN/ruff" format --check --quiet .
		"$BIN/mypy"
		export PLINTH_TEST_LEG=embedded
		"$BIN/pytest" -q -p no:cacheprovider --collect-only >/dev/null  # every test file imports
		"$BIN/pytest" -q -p no:cacheprovider "${WIRING_TESTS[@]}"
	else
		make --no-print-directory test
	fi
)
# Under `make test` (PLINTH_TESTS_RUN_BY_TEMPLATE names the list): this repository's legs leave
# out the test files that project has just run as they are here; the wiring tests, which see
# what is plugged in, run in both.
if [ -n "${PLINTH_TESTS_RUN_BY_TEMPLATE:-}" ]; then
	: > "$PLINTH_TESTS_RUN_BY_TEMPLATE"
	if [ "${TEMPLATE_CHECK_TESTS:-}" != wiring ]; then
		(cd "$SERVICE" && git ls-files 'tests/*test_*.py') | while IFS= read -r path; do
			printf '%s\n' "${WIRING_TESTS[@]}" | grep -qxF "$path" && continue
			cmp -s "$ROOT/$path" "$SERVICE/$path" && echo "$path"
		done >> "$PLINTH_TESTS_RUN_BY_TEMPLATE"
	fi
	echo "template-check: $(wc -l < "$PLINTH_TESTS_RUN_BY_TEMPLATE") test files ran there; here they are left out"
fi

echo "template-check: 3/3 copier update from $(git -C "$ROOT" log -1 --format='%h %s' "$FROM" | cut -c1-60)"
OLD="$WORK/old"
make_project "$OLD" v0.0.0 service-check false
# The file a service edits to register its own domains (the scaffold does): Plinth rewrites its
# README and docs often, so a change there may rightly conflict (docs/template.md).
OWN_LINE="# A line of the service's own."
echo "$OWN_LINE" >> "$OLD/app/models.py"
echo "Notes of the service's own." > "$OLD/NOTES.md"
git -C "$OLD" add -A && git -C "$OLD" commit -qm "own changes"
(cd "$OLD" && "$BIN/copier" update --quiet --defaults --vcs-ref HEAD --conflict rej)
if git -C "$OLD" status --porcelain | grep -E '\.rej$|^(UU|AA) '; then
	echo "copier update left conflicts" >&2
	exit 1
fi
git -C "$OLD" add -A && git -C "$OLD" commit -qm "copier update" --allow-empty
tail -n 1 "$OLD/app/models.py" | grep -qxF "$OWN_LINE"
git clone -q "$SERVICE" "$WORK/fresh"  # what the template makes now, without the test runs' files
sed -i '$ d' "$OLD/app/models.py"  # the own line kept, the rest is what the template makes now
diff -r -q -x .git -x .copier-answers.yml -x NOTES.md "$OLD" "$WORK/fresh"
echo "template-check: ok"
