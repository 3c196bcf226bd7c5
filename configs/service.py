"""This service's name, the default of APP_NAME (the API's title). The template writes it from
its first question (docs/template.md: configs/service.py.jinja)."""

SERVICE_NAME = "Plinth"
