"""Storage, the only code that speaks SQL: the database and its writer thread, the store, the search index."""
