"""The new entity's files: the templates in `templates/`, filled from its fields."""

from pathlib import Path
from string import Template

from scaffold.entity import KINDS, Entity, FieldSpec

TEMPLATES = Path(__file__).resolve().parent / "templates"


def fill(name: str, **values: object) -> str:
    """The template `templates/<name>.tmpl` with `$names` replaced."""
    return Template((TEMPLATES / f"{name}.tmpl").read_text()).substitute(values)


def _imports(*groups: list[str]) -> str:
    return "\n\n".join("\n".join(group) for group in groups if group)


def _names(**wanted: bool) -> list[str]:
    return sorted(name for name, on in wanted.items() if on)


def _stdlib(entity: Entity, *, owner_uuid: bool) -> list[str]:
    kinds = {field.kind for field in entity.fields}
    lines = ["import uuid"] if "uuid" in kinds or (owner_uuid and entity.owner) else []
    moments = _names(date="date" in kinds, datetime="datetime" in kinds)
    if moments:
        lines.append(f"from datetime import {', '.join(moments)}")
    if "decimal" in kinds:
        lines.append("from decimal import Decimal")
    return lines


# -- models ------------------------------------------------------------------------------------


def _column(field: FieldSpec) -> str:
    annotation = f"{field.info.python} | None" if field.optional else field.info.python
    args = [field.info.column] if field.info.column else []
    if field.default is not None:
        args.append(f"default={field.default}")
    elif field.optional:
        args.append("default=None")
    value = f" = mapped_column({', '.join(args)})" if args else ""
    return f"    {field.name}: Mapped[{annotation}]{value}"


def render_models(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    sql = _names(
        ForeignKey=entity.owner, String="str" in kinds, Text="text" in kinds,
        Numeric="decimal" in kinds,
    )  # fmt: skip
    third = [f"from sqlalchemy import {', '.join(sql)}"] if sql else []
    third.append("from sqlalchemy.orm import Mapped, mapped_column")
    columns = [_column(field) for field in entity.fields]
    if entity.owner:
        columns.append(
            "    owner_id: Mapped[uuid.UUID] = mapped_column(\n"
            '        ForeignKey("users.id", ondelete="CASCADE"), index=True\n'
            "    )"
        )
    return fill(
        "models.py",
        cls=entity.cls,
        url=entity.url,
        plural=entity.plural,
        owner_doc=" Each row belongs to the user who created it." if entity.owner else "",
        imports=_imports(
            _stdlib(entity, owner_uuid=True), third, ["from core.db import CommonBase"]
        ),
        columns="\n".join(columns),
    )


# -- schemas and filters -----------------------------------------------------------------------


def _input_type(field: FieldSpec) -> str:
    return field.info.schema


def _field_call(*args: str) -> str:
    return f"Field({', '.join(arg for arg in args if arg)})"


def _create_line(field: FieldSpec) -> str:
    constraints = field.info.constraints
    if field.kind == "str" and field.required:
        constraints = f"min_length=1, {constraints}"
    annotation = f"{_input_type(field)} | None" if field.optional else _input_type(field)
    default = field.default if field.default is not None else ("None" if field.optional else "")
    if constraints:
        value = _field_call(f"default={default}" if default else "", constraints)
        return f"    {field.name}: {annotation} = {value}"
    return f"    {field.name}: {annotation}" + (f" = {default}" if default else "")


def _update_line(field: FieldSpec) -> str:
    constraints = field.info.constraints
    if field.kind == "str" and not field.optional:
        constraints = f"min_length=1, {constraints}"
    if constraints:
        value = _field_call("default=None", constraints)
        return f"    {field.name}: {_input_type(field)} | None = {value}"
    return f"    {field.name}: {_input_type(field)} | None = None"


def _filters(entity: Entity) -> tuple[list[str], list[str]]:
    """Declared filter fields and a description, per field kind."""
    fields, described = [], []
    for field in entity.fields:
        column, schema = f"{entity.cls}.{field.name}", field.info.schema
        if field.info.filter == "contains":
            fields.append(f'    {field.name}: str | None = Filter({column}, "contains")')
            described.append(f"`?{field.name}=` (substring, any case)")
        elif field.info.filter == "equals":
            fields.append(f"    {field.name}: {schema} | None = Filter({column})")
            described.append(f"`?{field.name}=`")
        else:
            for suffix, operator in (("from", ">="), ("to", "<=")):
                fields.append(
                    f'    {field.name}_{suffix}: {schema} | None = Filter({column}, "{operator}")'
                )
            described.append(f"`?{field.name}_from=` / `?{field.name}_to=` (inclusive)")
    return fields, described


def _wrap(text: str, indent: int, width: int = 96) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width - indent:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return ("\n" + " " * indent).join(lines)


def render_schemas(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    filter_fields, described = _filters(entity)
    constrained = any(KINDS[kind].constraints for kind in kinds)
    third = ["from pydantic import Field"] if constrained else []
    first = [
        f"from app.{entity.plural}.models import {entity.cls}",
        *(["from core.fields import Timestamp"] if "datetime" in kinds else []),
        "from core.filtering import Filter, FilterSet",
        "from core.schemas import CreateSchema, ReadSchema, UpdateSchema",
    ]
    read = [
        f"    {f.name}: {f.info.python}" + (" | None" if f.optional else "") for f in entity.fields
    ]
    if entity.owner:
        read.append("    owner_id: uuid.UUID")
    return fill(
        "schemas.py",
        cls=entity.cls,
        plural=entity.plural,
        imports=_imports(_stdlib(entity, owner_uuid=True), third, first),
        create_fields="\n".join(_create_line(field) for field in entity.fields),
        update_fields="\n".join(_update_line(field) for field in entity.fields),
        read_fields="\n".join(read),
        filters_doc=_wrap(", ".join(described) + ".", 4),
        filter_fields="\n".join(filter_fields),
    )


# -- controller and router ---------------------------------------------------------------------


def render_controller(entity: Entity) -> str:
    sortable = [
        f'            "{f.name}": {entity.cls}.{f.name},' for f in entity.fields if f.info.sortable
    ]
    sortable.append(f'            "updated_at": {entity.cls}.updated_at,')  # created_at: always
    owner = (
        '    owner = Owner("owner_id")  # set to the caller on create; others\' rows answer 404\n'
        if entity.owner
        else ""
    )
    return fill(
        "controller.py",
        cls=entity.cls,
        plural=entity.plural,
        owner_import=", Owner" if entity.owner else "",
        owner_line=owner,
        sort_lines="\n".join(sortable),
    )


def render_router(entity: Entity) -> str:
    owner_doc = "\n\nRows belong to their creator; nobody else sees them.\n" if entity.owner else ""
    return fill(
        "router.py", cls=entity.cls, plural=entity.plural, url=entity.url, owner_doc=owner_doc
    )


# -- tests -------------------------------------------------------------------------------------


def _filter_cases(entity: Entity) -> list[tuple[dict[str, object], str]]:
    """(query parameters, which row matches: "first" or "second") for every filter."""
    cases: list[tuple[dict[str, object], str]] = []
    for field in entity.fields:
        first, second = field.info.samples
        if field.info.filter == "contains":
            cases.append(({field.name: str(first)[:3].upper()}, "first"))
        elif field.info.filter == "equals":
            cases.append(({field.name: _query_value(second)}, "second"))
        else:
            cases.append(({f"{field.name}_from": _query_value(second)}, "second"))
            cases.append(({f"{field.name}_to": _query_value(first)}, "first"))
    return cases


def _query_value(value: object) -> object:
    return str(value).lower() if isinstance(value, bool) else value


def _optional_checks(entity: Entity) -> dict[str, str]:
    sortable = next((f for f in entity.fields if f.info.sortable), None)
    required = [f.name for f in entity.fields if f.required]
    not_null = [f.name for f in entity.fields if not f.optional]
    checks = {"sort_test": "", "required_test": "", "null_test": ""}
    if sortable is not None:
        checks["sort_test"] = (
            f'    by_field = await client.get(URL, params={{"sort": "-{sortable.name}"}}, '
            "headers=headers)\n"
            '    assert ids(by_field) == [b["id"], a["id"]]\n'
        )
    if required:
        checks["required_test"] = (
            f'    missing = {{k: v for k, v in FIRST.items() if k != "{required[0]}"}}\n'
            "    refused = await client.post(URL, json=missing, headers=headers)\n"
            "    assert refused.status_code == 422\n"
        )
    moment = next((f.name for f in entity.fields if f.kind == "datetime"), None)
    if moment is not None:  # aware, but before year 1 once in UTC: no database stores it
        checks["required_test"] += (
            f'    too_early = {{**FIRST, "{moment}": "0001-01-01T00:00:00+14:00"}}\n'
            "    refused = await client.post(URL, json=too_early, headers=headers)\n"
            "    assert refused.status_code == 422\n"
        )
    if not_null:
        checks["null_test"] = (
            "    nulled = await client.patch(\n"
            f'        f"{{URL}}/{{row[\'id\']}}", json={{"{not_null[0]}": None}}, headers=headers\n'
            "    )\n"
            "    assert nulled.status_code == 422\n"
        )
    return checks


def render_tests(entity: Entity) -> str:
    visibility = "test_visibility_owner.py" if entity.owner else "test_visibility_shared.py"
    return fill(
        "test_api.py",
        url=entity.url,
        plural=entity.plural,
        kinds=repr({field.name: field.kind for field in entity.fields}),
        first=repr({field.name: field.info.samples[0] for field in entity.fields}),
        second=repr({field.name: field.info.samples[1] for field in entity.fields}),
        filter_cases=repr(_filter_cases(entity)),
        patch_field=entity.fields[0].name,
        visibility="\n\n" + fill(visibility),
        **_optional_checks(entity),
    )


def planned_files(root: Path, entity: Entity) -> dict[Path, str]:
    """Every new file and its content: the domain package, its router and its API tests."""
    package = root / "app" / entity.plural
    tests = root / "tests" / "app" / entity.plural
    files = {
        package / "__init__.py": "",
        package / "models.py": render_models(entity),
        package / "schemas.py": render_schemas(entity),
        package / "controller.py": render_controller(entity),
        root / "routers" / f"{entity.plural}.py": render_router(entity),
        tests / "__init__.py": "",
        tests / f"test_{entity.plural}_api.py": render_tests(entity),
    }
    if not (root / "tests" / "app" / "__init__.py").exists():
        files[root / "tests" / "app" / "__init__.py"] = ""
    return files
