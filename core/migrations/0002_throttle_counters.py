"""Throttle counters: one row per client and scope, counting requests in the current window."""

from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS core_throttle (
    key varchar(255) NOT NULL PRIMARY KEY,
    window_start bigint NOT NULL,
    hits integer NOT NULL,
    expires_at timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS core_throttle_expires ON core_throttle (expires_at);
"""


class Migration(migrations.Migration):
    dependencies = [("core", "0001_cache_table")]
    operations = [migrations.RunSQL(CREATE, "DROP TABLE IF EXISTS core_throttle")]
