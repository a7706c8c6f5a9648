-- The PostgreSQL store's tables, the SQLite store's (mailcatch/storage/migrations/) in PostgreSQL's types.
-- Summaries (what listing needs) live apart from raw bodies, so listing never reads bodies.
CREATE TABLE messages (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- order of arrival, shared by every replica
    id          text             NOT NULL UNIQUE,
    created     double precision NOT NULL,       -- Unix time the message was received
    read        boolean          NOT NULL DEFAULT false,
    size        bigint           NOT NULL,
    attachments integer          NOT NULL,
    subject     text             NOT NULL,
    message_id  text             NOT NULL,
    sender      text             NOT NULL,       -- lower-case From address
    tags        text             NOT NULL DEFAULT '[]',  -- JSON list, in the message's order
    summary     text             NOT NULL,       -- JSON: the fixed fields of the API summary
    envelope    text             NOT NULL,       -- JSON: MAIL FROM, RCPT TO, peer, HELO, AUTH user, TLS
    session_id  text             NOT NULL,
    tx_start    integer          NOT NULL,       -- this message's transaction within its session's transcript
    tx_end      integer          NOT NULL
);
CREATE INDEX messages_unread ON messages (seq) WHERE NOT read;
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_session ON messages (session_id);
CREATE INDEX messages_created ON messages (created);

-- The bytes exactly as received.
CREATE TABLE message_data (
    seq bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    raw bytea  NOT NULL
);

-- The text a message is found by (mailcatch.storage.prepare.search_fields), stored with the message.
CREATE TABLE message_search (
    seq        bigint PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
    subject    text NOT NULL,
    sender     text NOT NULL,
    recipients text NOT NULL,
    body       text NOT NULL,
    files      text NOT NULL
);

-- One row per SMTP connection that delivered at least one message.
CREATE TABLE sessions (
    id      text             PRIMARY KEY,
    peer    text             NOT NULL,
    started double precision NOT NULL
);

-- A session's transcript in pieces: the lines recorded up to each stored message, then the rest.
CREATE TABLE transcript_chunks (
    session_id text    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    first_line integer NOT NULL,
    lines      text    NOT NULL,                 -- JSON list of [time, "C" or "S", text]
    PRIMARY KEY (session_id, first_line)
);

-- Tags, one row per message and tag (one whatever its case, as in SQLite's NOCASE column);
-- messages.tags keeps the message's own list in order.
CREATE TABLE message_tags (
    seq bigint NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    tag text   NOT NULL
);
CREATE UNIQUE INDEX message_tags_tag ON message_tags (lower(tag), seq);
CREATE INDEX message_tags_seq ON message_tags (seq);
