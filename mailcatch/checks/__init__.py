"""Checks of a captured message: will it work out there (standards lint, DKIM, HTML, links, spam score)."""
