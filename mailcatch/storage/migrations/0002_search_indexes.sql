-- Indexes for the search operators that the full-text index doesn't serve, so that counting
-- their matches reads an index, not every row: larger:/smaller:, before:/after:,
-- has:attachment and is:read (is:unread has messages_unread).
CREATE INDEX messages_size ON messages (size);
CREATE INDEX messages_created ON messages (created);
CREATE INDEX messages_with_attachments ON messages (seq) WHERE attachments > 0;
CREATE INDEX messages_read ON messages (seq) WHERE read = 1;
