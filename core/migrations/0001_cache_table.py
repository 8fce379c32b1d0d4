"""The shared cache's table (Django's DatabaseCache layout): throttle counters and task
de-duplication marks that every web and worker process sees, with no extra service."""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS ledger_cache (
    cache_key varchar(255) NOT NULL PRIMARY KEY,
    value text NOT NULL,
    expires timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_cache_expires ON ledger_cache (expires);
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunSQL(CREATE, "DROP TABLE IF EXISTS ledger_cache")]
