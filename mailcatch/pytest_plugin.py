"""pytest plugin: the `mailcatch` fixture (registered through the pytest11 entry point)."""
