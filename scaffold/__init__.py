"""Generate a new entity in the canonical shape: model, schemas, controller, router, migration
and API tests.

    python -m scaffold Project --fields "name:str, status:enum(active,archived)=active" --owner
    python -m scaffold Task --fields "title:str, done:bool=false" --parent Project

Field syntax: `name:type`, `?` after the type for an optional (nullable) field, `=value` for a
default. Types: str, text, int, float, bool, datetime, date, uuid, decimal, and
`enum(a,b,…)` (lower-case identifiers; a `StrEnum` is generated beside the model). With
`--owner`, each row belongs to the user who created it and only that user sees it. With
`--parent Model` (a model registered in app/models.py, with its `ModelController`), each row
belongs to a row of Model and its routes sit under `/<models>/{<model>_id}/`.

Writes app/<plural>/{models,schemas,controller}.py, routers/<plural>.py (a `CrudRouter`) and
tests/app/<plural>/test_<plural>_api.py from the templates in scaffold/templates/, registers the
model in app/models.py and the router in routers/__init__.py, then autogenerates the Alembic
migration against a throwaway SQLite database upgraded to every current head. Bad input (an
existing entity, a reserved word, an unknown type or parent, bad syntax) exits with status 2 and
writes nothing. It is a development tool beside the project, not part of the `core` library.
"""
