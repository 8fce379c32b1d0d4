"""Stored hashes of the log's complete subtrees (eventstore.subtrees), append-only like the other
log tables: ALWAYS triggers refuse UPDATE, DELETE and TRUNCATE, and the application role may
only add rows (eventstore.privileges). The log's existing leaves get their subtrees here, so
the checkpoints signed before this migration are served proofs at once."""

from django.db import migrations

from eventstore import subtrees

FORWARD = """
CREATE TABLE eventstore_subtree (
    level smallint NOT NULL CHECK (level >= 0 AND level < 63),
    index bigint NOT NULL CHECK (index >= 0),
    hash  bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, index)
);
CREATE TRIGGER eventstore_subtree_no_change BEFORE UPDATE OR DELETE ON eventstore_subtree
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_subtree_no_truncate BEFORE TRUNCATE ON eventstore_subtree
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();
ALTER TABLE eventstore_subtree ENABLE ALWAYS TRIGGER eventstore_subtree_no_change;
ALTER TABLE eventstore_subtree ENABLE ALWAYS TRIGGER eventstore_subtree_no_truncate;
REVOKE UPDATE, DELETE, TRUNCATE ON eventstore_subtree FROM PUBLIC;
"""

REVERSE = "DROP TABLE eventstore_subtree;"


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(leaf_index) + 1, 0) FROM eventstore_leaf")
        size = cursor.fetchone()[0]
    subtrees.store(size)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0005_chain_check_statement")]

    operations = [
        migrations.RunSQL(FORWARD, reverse_sql=REVERSE),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
