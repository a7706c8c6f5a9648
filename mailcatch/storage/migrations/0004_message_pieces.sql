-- The raw bytes of a big message are stored in pieces, each written in a commit of its own
-- before the message itself, so that storing a huge message never holds up the commits of
-- small ones for long. message_data.raw is then empty and message_data.pieces names them.
ALTER TABLE message_data ADD COLUMN pieces INTEGER;
CREATE TABLE message_pieces (
    id    INTEGER PRIMARY KEY,
    owner INTEGER NOT NULL,       -- a random key chosen before the message has its seq
    data  BLOB    NOT NULL
);
CREATE INDEX message_pieces_owner ON message_pieces (owner, id);
