"""The stream-heads tree: each checkpoint commits to where every stream ends.

`eventstore_stream_head` holds, per stream, its last event (version, chain hash, leaf index)
among the leaves of the newest checkpoint's tree; the checkpoint writer brings it forward in
the transaction that signs the next checkpoint (`eventstore_sequencer.heads_size` says which
tree size it describes). It is derived from the leaves and may be rebuilt from them: the
signed heads root is what an auditor relies on. A checkpoint records the root and the number
of streams it signed and the checkpoint before it (NULL on checkpoints written before this migration)."""

from django.db import migrations

FORWARD = r"""
CREATE TABLE eventstore_stream_head (
    stream_id  uuid PRIMARY KEY,
    version    bigint NOT NULL CHECK (version > 0),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    leaf_index bigint NOT NULL
);
ALTER TABLE eventstore_sequencer ADD COLUMN heads_size bigint NOT NULL DEFAULT 0;
ALTER TABLE eventstore_checkpoint ADD COLUMN heads_root bytea
    CHECK (heads_root IS NULL OR length(heads_root) = 32);
ALTER TABLE eventstore_checkpoint ADD COLUMN heads_count bigint;
ALTER TABLE eventstore_checkpoint ADD COLUMN previous_size bigint;
ALTER TABLE eventstore_checkpoint ADD COLUMN previous_root bytea
    CHECK (previous_root IS NULL OR length(previous_root) = 32);

-- The heads of every stream as of the newest checkpoint already written.
INSERT INTO eventstore_stream_head (stream_id, version, hash, leaf_index)
SELECT DISTINCT ON (l.stream_id) l.stream_id, l.version, e.hash, l.leaf_index
  FROM eventstore_leaf l JOIN eventstore_event e ON e.position = l.position
 WHERE l.leaf_index < (SELECT coalesce(max(tree_size), 0) FROM eventstore_checkpoint)
 ORDER BY l.stream_id, l.version DESC;
UPDATE eventstore_sequencer
   SET heads_size = (SELECT coalesce(max(tree_size), 0) FROM eventstore_checkpoint);
"""

REVERSE = """
ALTER TABLE eventstore_checkpoint DROP COLUMN previous_root;
ALTER TABLE eventstore_checkpoint DROP COLUMN previous_size;
ALTER TABLE eventstore_checkpoint DROP COLUMN heads_count;
ALTER TABLE eventstore_checkpoint DROP COLUMN heads_root;
ALTER TABLE eventstore_sequencer DROP COLUMN heads_size;
DROP TABLE eventstore_stream_head;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0007_signer")]

    operations = [migrations.RunSQL(FORWARD, reverse_sql=REVERSE)]
