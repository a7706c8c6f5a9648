-- The search index moves to a database of its own, written by a thread of its own
-- (mailcatch/search_index.py), so that indexing never holds up storing a message.
-- It is rebuilt from the stored messages in the background at the next start.
DROP TABLE messages_fts;

-- This database's identity: the search index records it, so that an index file that
-- belongs to another database (or to an earlier one at the same path) is rebuilt.
CREATE TABLE mailcatch_identity (id TEXT NOT NULL);
INSERT INTO mailcatch_identity VALUES (lower(hex(randomblob(16))));
