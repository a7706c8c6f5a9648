"""The PostgreSQL store: `--database postgresql://...` keeps messages in a PostgreSQL database.

url         telling a PostgreSQL URL from a SQLite path, and naming it without its password
connection  the driver (psycopg 3, the `postgres` extra), connecting, and start-up errors that say why
migrate     numbered schema migrations (migrations/NNNN_name.sql), applied under an advisory lock
search      Mailpit's search syntax as SQL over the stored search text (the same answers as SQLite)
tags        setting, renaming, deleting and counting tags
store       PostgresStore, the MessageStore on PostgreSQL

Only `url` may be imported without the driver installed: the rest import psycopg.
"""
