"""manage.py write_openapi: docs/openapi.json, the OpenAPI schema /api/schema/ serves, written
in the one canonical form that tests/api/test_openapi_golden.py holds the served schema to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.settings import spectacular_settings

OPENAPI_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.json"


def generate() -> dict[str, Any]:
    """The schema as SpectacularAPIView builds it (same generator, urlconf and public flag),
    without a request: the golden test checks that the served one is the same."""
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS(
        urlconf=spectacular_settings.SERVE_URLCONF
    )
    return generator.get_schema(request=None, public=spectacular_settings.SERVE_PUBLIC)


def render(schema: dict[str, Any]) -> str:
    """The JSON /api/schema/ sends (its renderer turns lazy text and the like into JSON), with
    sorted keys, a two-space indent and a final newline, so that a change to the API is a
    short, readable diff and never a reordering."""
    served = json.loads(OpenApiJsonRenderer().render(schema, renderer_context={}))
    return json.dumps(served, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the OpenAPI schema /api/schema/ serves to docs/openapi.json (or --file)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(OPENAPI_FILE), help="where to write it")

    def handle(self, *args, **options):
        target = Path(options["file"])
        target.write_text(render(generate()), encoding="utf-8")
        self.stdout.write(f"wrote {target}")
