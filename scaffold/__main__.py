"""`python -m scaffold`: see the package docstring."""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from scaffold.entity import KINDS, PROJECT_ROOT, Entity, ScaffoldError, make_entity
from scaffold.register import register_model, register_router
from scaffold.render import planned_files

EXIT_BAD_INPUT = 2


def _next_revision_id(root: Path) -> str:
    numbers = [
        int(match.group(1))
        for path in (root / "alembic" / "versions").glob("*.py")
        if (match := re.match(r"^(\d+)_", path.name))
    ]
    return f"{max(numbers, default=0) + 1:04d}"


def generate_migration(root: Path, entity: Entity) -> Path:
    """`alembic revision --autogenerate` against a throwaway SQLite upgraded to every head; the
    new revision depends on all current heads, so it also joins open branches."""
    workdir = Path(tempfile.mkdtemp(prefix="plinth-scaffold-"))
    url = f"sqlite+aiosqlite:///{workdir / 'scaffold.db'}"
    alembic = [sys.executable, "-m", "alembic", "-x", f"url={url}"]
    revision = _next_revision_id(root)
    try:
        for command in (
            ["upgrade", "heads"],
            ["revision", "--autogenerate", "--head", "heads", "--rev-id", revision,
             "-m", f"create {entity.plural}"],
        ):  # fmt: skip
            result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
                [*alembic, *command], cwd=root, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(f"alembic {' '.join(command)} failed:\n{result.stderr}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    path = next((root / "alembic" / "versions").glob(f"{revision}_*.py"))
    foreign = sorted(
        set(re.findall(r"(?:create_table|drop_table|batch_alter_table)\('(\w+)'", path.read_text()))
        - {entity.plural}
    )
    if foreign:
        print(
            f"warning: the migration also changes {', '.join(foreign)}: models and migrations had "
            f"drifted before the scaffold; review {path.relative_to(root)}",
            file=sys.stderr,
        )
    return path


def _format(root: Path, paths: Sequence[Path]) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        return
    targets = [str(path) for path in paths if path.suffix == ".py"]
    for command in (["check", "--fix", "--select", "I", "--quiet"], ["format", "--quiet"]):
        subprocess.run([ruff, *command, *targets], cwd=root, check=False)  # noqa: S603


def scaffold(entity: Entity, root: Path = PROJECT_ROOT, *, migrate: bool = True) -> list[Path]:
    """Write the entity's files, register it, generate its migration; return what changed."""
    files = planned_files(root, entity)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    register_model(root, f"app.{entity.plural}.models", entity.cls)
    register_router(root, entity.plural)
    changed = [*files, root / "app" / "models.py", root / "routers" / "__init__.py"]
    _format(root, [path for path in changed if path.suffix == ".py"])
    if migrate:
        changed.append(generate_migration(root, entity))
    return changed


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scaffold",
        description="Generate an entity: model, schemas, controller, router, migration and API "
        "tests.",
    )
    parser.add_argument("name", help="CamelCase entity name, e.g. Todo")
    parser.add_argument(
        "--fields",
        required=True,
        help='e.g. "title:str, done:bool=false, status:enum(open,closed)=open"; types: '
        + ", ".join(KINDS),
    )
    parser.add_argument("--owner", action="store_true", help="rows belong to their creator")
    parser.add_argument(
        "--parent",
        metavar="MODEL",
        help="rows belong to a row of this registered model (e.g. Project): routes under "
        "/<parents>/{<parent>_id}/<plural>",
    )
    parser.add_argument(
        "--tenant",
        action="store_true",
        help="rows belong to an organization (members read, admins write): routes under "
        "/organizations/{organization_id}/<plural>",
    )
    parser.add_argument("--no-migration", action="store_true", help="skip the Alembic revision")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        entity = make_entity(
            args.name, args.fields, args.owner, PROJECT_ROOT, args.parent, tenant=args.tenant
        )
    except ScaffoldError as exc:
        parser.exit(EXIT_BAD_INPUT, f"{parser.prog}: error: {exc}\n")
    try:
        changed = scaffold(entity, PROJECT_ROOT, migrate=not args.no_migration)
    except RuntimeError as exc:
        print(
            f"{parser.prog}: the files are written and registered, but the migration was not "
            f"generated (fix the cause, then run the two alembic commands of "
            f"docs/tutorial/first-entity.md):\n{exc}",
            file=sys.stderr,
        )
        return 1
    for path in changed:
        print(f"wrote {path.relative_to(PROJECT_ROOT)}")
    print(
        f"\nNext: alembic upgrade heads, then open /docs ({entity.url}), and run\n"
        f"  pytest tests/app/{entity.plural}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
