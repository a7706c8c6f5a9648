"""Tests of the message checks."""
