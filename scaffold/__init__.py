"""Generate a new entity in the canonical shape: model, schemas, controller, router, migration
and API tests.

    python -m scaffold Todo --fields "title:str, done:bool=false, due:datetime?" [--owner]

Field syntax: `name:type`, `?` after the type for an optional (nullable) field, `=value` for a
default. Types: str, text, int, float, bool, datetime, date, uuid, decimal. With `--owner`, each
row belongs to the user who created it and only that user sees it.

Writes app/<plural>/{models,schemas,controller}.py, routers/<plural>.py (a `CrudRouter`) and
tests/app/<plural>/test_<plural>_api.py from the templates in scaffold/templates/, registers the
model in app/models.py and the router in routers/__init__.py, then autogenerates the Alembic
migration against a throwaway SQLite database upgraded to every current head. Bad input (an
existing entity, a reserved word, an unknown type, bad syntax) exits with status 2 and writes
nothing. It is a development tool beside the project, not part of the `core` library.
"""
