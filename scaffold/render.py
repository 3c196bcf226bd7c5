"""The new entity's files: the templates in `templates/`, filled from its fields."""

from pathlib import Path
from string import Template

from scaffold.entity import KINDS, TENANT_FIELD, Entity, FieldSpec, pluralise, snake_case

TEMPLATES = Path(__file__).resolve().parent / "templates"


def fill(name: str, **values: object) -> str:
    """The template `templates/<name>.tmpl` with `$names` replaced."""
    return Template((TEMPLATES / f"{name}.tmpl").read_text()).substitute(values)


def _imports(*groups: list[str]) -> str:
    return "\n\n".join("\n".join(group) for group in groups if group)


def _names(**wanted: bool) -> list[str]:
    return sorted(name for name, on in wanted.items() if on)


def _stdlib(entity: Entity, *, enums: bool = False) -> list[str]:
    kinds = {field.kind for field in entity.fields}
    lines = ["import uuid"] if "uuid" in kinds or entity.keys else []
    moments = _names(date="date" in kinds, datetime="datetime" in kinds)
    if moments:
        lines.append(f"from datetime import {', '.join(moments)}")
    if "decimal" in kinds:
        lines.append("from decimal import Decimal")
    if enums and "enum" in kinds:
        lines.append("from enum import StrEnum")
    return lines


def _enums(entity: Entity) -> list[FieldSpec]:
    return [field for field in entity.fields if field.kind == "enum"]


# -- models ------------------------------------------------------------------------------------


def _column(field: FieldSpec) -> str:
    annotation = f"{field.info.python} | None" if field.optional else field.info.python
    args = [field.info.column] if field.info.column else []
    if field.default is not None:
        args.append(f"default={field.default}")
    elif field.optional:
        args.append("default=None")
    if field.kind == "enum":
        call = f"enum_column({', '.join([field.enum_class, *args])})"
        return f"    {field.name}: Mapped[{annotation}] = {call}"
    value = f" = mapped_column({', '.join(args)})" if args else ""
    return f"    {field.name}: Mapped[{annotation}]{value}"


def _foreign_key(name: str, table: str) -> str:
    """A required, indexed key to `table` whose rows go with the row they point to."""
    return (
        f"    {name}: Mapped[uuid.UUID] = mapped_column(\n"
        f'        ForeignKey("{table}.id", ondelete="CASCADE"), index=True\n'
        "    )"
    )


def _enum_class(field: FieldSpec) -> str:
    members = "\n".join(f'    {value.upper()} = "{value}"' for value in field.values)
    return f"class {field.enum_class}(StrEnum):\n{members}\n\n\n"


def render_models(entity: Entity) -> str:
    kinds = {field.kind for field in entity.fields}
    sql = _names(
        ForeignKey=entity.keys,
        String="str" in kinds,
        Text="text" in kinds,
        Numeric="decimal" in kinds,
    )
    third = [f"from sqlalchemy import {', '.join(sql)}"] if sql else []
    third.append("from sqlalchemy.orm import Mapped, mapped_column")
    first = ["from core.columns import enum_column"] if "enum" in kinds else []
    first.append("from core.db import CommonBase")
    columns = [_column(field) for field in entity.fields]
    if entity.parent is not None:
        columns.append(_foreign_key(entity.parent.field, entity.parent.table))
    if entity.owner:
        columns.append(_foreign_key("owner_id", "users"))
    if entity.tenant:
        columns.append(_foreign_key(TENANT_FIELD, "organizations"))
    docs = []
    if entity.parent is not None:
        docs.append(f" Each row belongs to a {entity.parent.cls} and goes with it.")
    if entity.owner:
        docs.append(" Each row belongs to the user who created it.")
    if entity.tenant:
        docs.append(" Each row belongs to an organization and goes with it.")
    return fill(
        "models.py",
        cls=entity.cls,
        plural=entity.plural,
        doc=_wrap(f"{entity.cls}: the model behind /api/v1{entity.url}.{''.join(docs)}", 0, 93),
        imports=_imports(_stdlib(entity, enums=True), third, first),
        enums="".join(_enum_class(field) for field in _enums(entity)),
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
        elif field.info.filter == "in":
            fields.append(f'    {field.name}: list[{schema}] | None = Filter({column}, "in")')
            described.append(f"`?{field.name}=` (any of the values: repeat the key)")
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
    models = ", ".join([entity.cls, *(field.enum_class for field in _enums(entity))])
    first = [
        f"from app.{entity.plural}.models import {models}",
        *(["from core.fields import Timestamp"] if "datetime" in kinds else []),
        "from core.filtering import Filter, FilterSet",
        "from core.schemas import CreateSchema, ReadSchema, UpdateSchema",
    ]
    read = [
        f"    {f.name}: {f.info.python}" + (" | None" if f.optional else "") for f in entity.fields
    ]
    if entity.parent is not None:
        read.append(f"    {entity.parent.field}: uuid.UUID")
    if entity.owner:
        read.append("    owner_id: uuid.UUID")
    if entity.tenant:
        read.append(f"    {TENANT_FIELD}: uuid.UUID")
    return fill(
        "schemas.py",
        cls=entity.cls,
        plural=entity.plural,
        imports=_imports(_stdlib(entity), third, first),
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
    lines, imports = [], []
    if entity.parent is not None:
        parent = entity.parent
        noun = snake_case(parent.cls).replace("_", " ")
        lines.append(
            f"    # Rows live under a {noun}: one the caller cannot see, or none, answers 404.\n"
            f'    parent = Parent({parent.controller}, "{parent.field}")\n'
        )
        imports.append(f"from {parent.controller_module} import {parent.controller}")
    if entity.owner:
        lines.append(
            '    owner = Owner("owner_id")  # set to the caller on create; others\' rows answer'
            " 404\n"
        )
    if entity.tenant:
        lines.append(
            "    # Members of the path's organization read, its admins write; non-members get"
            " 404,\n    # members whose role is too low 403 (docs/guides/organizations.md).\n"
            '    tenant = in_organization(Roles(read="member", write="admin"))\n'
        )
        imports += [
            "from app.organizations.tenancy import in_organization",
            "from core.tenancy import Roles",
        ]
    names = _names(BaseController=True, Owner=entity.owner, Parent=entity.parent is not None)
    return fill(
        "controller.py",
        cls=entity.cls,
        plural=entity.plural,
        parent_import="".join(f"{line}\n" for line in imports),
        controller_names=", ".join(names),
        owner_line="".join(lines),
        sort_lines="\n".join(sortable),
    )


def render_router(entity: Entity) -> str:
    docs = []
    if entity.parent is not None:
        noun = snake_case(entity.parent.cls).replace("_", " ")
        docs.append(
            f"Each {noun}'s own {entity.plural.replace('_', ' ')}: a {noun} the caller cannot "
            f"see, or that does not exist, is a 404, and so is a row reached through another "
            f"{noun}."
        )
    if entity.owner:
        docs.append("Rows belong to their creator; nobody else sees them.")
    if entity.tenant:
        docs.append(
            "Each organization's own rows: its members read them and its admins write them; "
            "others get 404, members whose role is too low 403."
        )
    routes = f"/api/v1{entity.url}: list, create, read, update, delete and restore {entity.plural}."
    doc = _wrap(routes, 0, 93) + ("\n\n" + _wrap(" ".join(docs), 0) + "\n" if docs else "")
    return fill("router.py", cls=entity.cls, plural=entity.plural, url=entity.url, doc=doc)


# -- tests -------------------------------------------------------------------------------------


def _filter_cases(entity: Entity) -> list[tuple[dict[str, object], str]]:
    """(query parameters, which rows match: "first", "second" or "both") for every filter."""
    cases: list[tuple[dict[str, object], str]] = []
    for field in entity.fields:
        first, second = field.info.samples
        if field.info.filter == "contains":
            cases.append(({field.name: str(first)[:3].upper()}, "first"))
        elif field.info.filter == "equals":
            cases.append(({field.name: _query_value(second)}, "second"))
        elif field.info.filter == "in":
            cases.append(({field.name: [first]}, "first"))
            cases.append(({field.name: [first, second]}, "both"))
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
            f'    by_field = await client.get(url, params={{"sort": "-{sortable.name}"}}, '
            "headers=headers)\n"
            '    assert ids(by_field) == [b["id"], a["id"]]\n'
        )
    if required:
        checks["required_test"] = (
            f'    missing = {{k: v for k, v in FIRST.items() if k != "{required[0]}"}}\n'
            "    refused = await client.post(url, json=missing, headers=headers)\n"
            "    assert refused.status_code == 422\n"
        )
    moment = next((f.name for f in entity.fields if f.kind == "datetime"), None)
    if moment is not None:  # aware, but before year 1 once in UTC: no database stores it
        checks["required_test"] += (
            f'    too_early = {{**FIRST, "{moment}": "0001-01-01T00:00:00+14:00"}}\n'
            "    refused = await client.post(url, json=too_early, headers=headers)\n"
            "    assert refused.status_code == 422\n"
        )
    if not_null:
        checks["null_test"] = (
            "    nulled = await client.patch(\n"
            f'        f"{{url}}/{{row[\'id\']}}", json={{"{not_null[0]}": None}}, headers=headers\n'
            "    )\n"
            "    assert nulled.status_code == 422\n"
        )
    return checks


def _test_imports(entity: Entity) -> str:
    lines = ["from tests.helpers import bearer, create_user"]
    parent = entity.parent
    if entity.tenant:
        lines = [
            "from app.organizations.controller import OrganizationController",
            "from app.organizations.models import Membership, OrganizationRole",
            "from app.organizations.schemas import OrganizationCreate",
            "from app.users.models import User",
            "from core.security import Principal, expand_scopes",
            "from core.service import unit_of_work",
            *lines,
        ]
    if parent is not None:
        lines = [
            f"from {parent.controller_module} import {parent.controller}",
            f"from {parent.schema_module} import {parent.create_schema}",
            "from app.users.models import User",
            "from core.security import Principal, expand_scopes",
            "from core.service import unit_of_work",
            *lines,
        ]
    return "\n".join(lines)


def _caller(entity: Entity) -> str:
    parent = entity.parent
    if entity.tenant:
        return fill("caller_tenant.py", plural=entity.plural.replace("_", " "))
    if parent is None:
        return fill("caller_flat.py")
    noun = snake_case(parent.cls)
    return fill(
        "caller_child.py",
        plural=entity.plural.replace("_", " "),
        parent_body=repr(parent.sample),
        parent_create=parent.create_schema,
        parent_controller=parent.controller,
        parent_field=parent.field,
        parent_noun=noun.replace("_", " "),
        parent_noun_plural=pluralise(noun).replace("_", " "),
    )


def _visibility(entity: Entity) -> str:
    """Who sees the rows: their owner, everyone, or — for a child — whoever sees the parent."""
    parent = entity.parent
    if entity.tenant:
        tests = fill("test_tenant.py")
    elif parent is None:
        tests = fill("test_visibility_owner.py" if entity.owner else "test_visibility_shared.py")
    else:
        noun = snake_case(parent.cls)
        tests = fill("test_parent.py", parent_noun=noun, parent_field=parent.field)
        if parent.private:
            tests += fill("test_parent_private.py", parent_noun=noun)
    if entity.owner:
        url = "URL" if parent is None else "collection(await make_parent(database, owner))"
        tests += fill("test_owner_is_caller.py", owner_url=url)
    return "\n\n" + tests


def _extra_tests(entity: Entity) -> dict[str, str]:
    enums = {field.name: list(field.values) for field in entity.fields if field.kind == "enum"}
    defaults = any(field.default is not None for field in entity.fields)
    return {
        "defaults_test": fill("test_defaults.py") if defaults else "",
        "enum_test": fill("test_enums.py", enums=repr(enums)) if enums else "",
    }


def render_tests(entity: Entity) -> str:
    hidden, parent = ["deleted_at", "owner_id", "nope"], entity.parent
    if parent is not None:
        hidden.insert(-1, parent.field)
    if entity.tenant:
        hidden.insert(-1, TENANT_FIELD)
    return fill(
        "test_api.py",
        doc=_wrap(
            f"/api/v1{entity.url} (generated by python -m scaffold; extend it as "
            f"{entity.plural} grow).",
            0,
            93,
        ),
        url=entity.url,
        plural=entity.plural,
        imports=_test_imports(entity),
        any_url=_any_url(entity),
        caller=_caller(entity),
        kinds=repr({field.name: field.kind for field in entity.fields}),
        first=repr({field.name: field.info.samples[0] for field in entity.fields}),
        second=repr({field.name: field.info.samples[1] for field in entity.fields}),
        defaults=repr({f.name: f.default_json for f in entity.fields if f.default is not None}),
        filter_cases=repr(_filter_cases(entity)),
        patch_field=entity.fields[0].name,
        unsortable=repr(tuple(hidden)),
        visibility=_visibility(entity),
        **_optional_checks(entity),
        **_extra_tests(entity),
    )


def _any_url(entity: Entity) -> str:
    """The collection under a made-up parent or organization (for the 401 checks)."""
    if entity.tenant:
        return f"URL.format({TENANT_FIELD}=uuid.uuid4())"
    if entity.parent is not None:
        return f"URL.format({entity.parent.field}=uuid.uuid4())"
    return "URL"


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
