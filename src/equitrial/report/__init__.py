"""Reporting: tables, listings and figures (matplotlib), CONSORT; HTML and PDF."""
