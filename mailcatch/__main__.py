"""`python -m mailcatch` runs the same command line as `mailcatch`."""

from mailcatch.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
