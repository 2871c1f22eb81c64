"""The statistical analysis plan as code: what ``equitrial analyze`` computes from the ADaM
datasets of :mod:`equitrial.datasets` (efficacy, safety, PK and immunogenicity, patient-reported
outcomes, dosing and access, the constancy check and the external comparison, monitoring).

Every analysis is a function of the datasets (pandas frames with CDISC names) and the protocol;
it returns plain values (numbers, text, lists and dicts of them) that go into ``results.json`` as
they are, and :class:`~equitrial.analysis.tables.Table` objects that the report renders. The
numbers come from :mod:`equitrial.stats`, whose functions are tested against R.
"""
