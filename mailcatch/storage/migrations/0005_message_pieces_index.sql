-- Finds the messages stored in pieces without reading every message's row: start-up looks
-- for pieces that no message names (left by a crash), which would otherwise scan them all.
CREATE INDEX message_data_pieces ON message_data (pieces) WHERE pieces IS NOT NULL;
