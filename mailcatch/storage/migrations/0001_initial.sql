-- Summaries (what listing needs) live apart from raw bodies, so listing never reads bodies.
CREATE TABLE messages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    created     REAL    NOT NULL,             -- Unix time the message was received
    read        INTEGER NOT NULL DEFAULT 0,
    size        INTEGER NOT NULL,
    attachments INTEGER NOT NULL,
    subject     TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    sender      TEXT    NOT NULL,             -- lower-case From address
    tags        TEXT    NOT NULL DEFAULT '[]',-- JSON list
    summary     TEXT    NOT NULL,             -- JSON: the fixed fields of the API summary
    envelope    TEXT    NOT NULL,             -- JSON: MAIL FROM, RCPT TO, peer, HELO, AUTH user, TLS
    session_id  TEXT    NOT NULL,
    tx_start    INTEGER NOT NULL,             -- this message's transaction within its session's transcript
    tx_end      INTEGER NOT NULL
);
CREATE INDEX messages_unread ON messages (seq) WHERE read = 0;
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_session ON messages (session_id);

-- The bytes exactly as received.
CREATE TABLE message_data (
    seq INTEGER PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    raw BLOB NOT NULL
);

-- One row per SMTP connection that delivered at least one message.
CREATE TABLE sessions (
    id       TEXT PRIMARY KEY,
    peer     TEXT NOT NULL,
    started  REAL NOT NULL
) WITHOUT ROWID;

-- A session's transcript in pieces: the lines recorded up to each stored message, then the rest.
CREATE TABLE transcript_chunks (
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_line INTEGER NOT NULL,
    lines      TEXT    NOT NULL,              -- JSON list of [time, "C" or "S", text]
    PRIMARY KEY (session_id, first_line)
) WITHOUT ROWID;

-- Full-text search over substrings (trigrams); rowid = messages.seq.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    subject, sender, recipients, body, files,
    tokenize = 'trigram'
);

-- Tags, one row per message and tag; messages.tags keeps the message's own list in order.
CREATE TABLE message_tags (
    seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    tag TEXT    NOT NULL COLLATE NOCASE,
    PRIMARY KEY (tag, seq)
) WITHOUT ROWID;
CREATE INDEX message_tags_seq ON message_tags (seq);
