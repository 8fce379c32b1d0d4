"""The API's idempotency keys: the first answer to each (actor, key), which a repeat returns."""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS core_api_idempotency (
    actor varchar(200) NOT NULL,
    key varchar(200) NOT NULL,
    fingerprint bytea NOT NULL,
    status integer NOT NULL,
    body bytea NOT NULL,
    headers jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    PRIMARY KEY (actor, key)
);
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0003_throttle_unlogged")]
    operations = [migrations.RunSQL(CREATE, "DROP TABLE IF EXISTS core_api_idempotency")]
