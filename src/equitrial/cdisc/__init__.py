"""CDISC submission files: SDTM domains, SAS XPT v5, Dataset-JSON v1.1, define.xml 2.1, ODM."""
