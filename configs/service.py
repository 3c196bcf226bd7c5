"""This service's name, in the first line of its API description (main.py). The template
writes it from its first question (configs/service.py.jinja, docs/template.md); the API's
title is APP_NAME."""

SERVICE_NAME = "Plinth"
