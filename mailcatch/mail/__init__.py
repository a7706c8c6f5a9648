"""Bytes -> parsed message: MIME structure, charsets and encoded words, addresses, tags. Pure: no I/O."""
