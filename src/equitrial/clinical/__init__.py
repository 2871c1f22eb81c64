"""Pure clinical rules: RECIST 1.1, iRECIST, CTCAE v5 lab grading, QLQ-C30 scoring, study calendar.

No database, files of the user, network or logging here: typed records in, typed results out.
Versioned rule tables (CTCAE criteria) are package data read through :mod:`importlib.resources`.
"""
