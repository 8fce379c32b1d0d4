"""The REST API: views, serializers, authentication, errors and the OpenAPI schema."""
