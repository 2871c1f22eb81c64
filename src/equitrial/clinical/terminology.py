"""Subsets of CDISC controlled terminology used by the case report forms.

Each constant is a subset of the submission values of one CDISC SDTM codelist (named by its
short name), restricted to what the forms of a biosimilar oncology trial need. A value not
listed is refused on entry; extending a subset means adding the CDISC submission value here.

Codelists (short name, NCI codelist code) of the subsets below:

=====================  ===========  =====================================================
constant               codelist     CDISC / NCI
=====================  ===========  =====================================================
EPOCHS                 EPOCH        C99079 (Epoch)
DISPOSITION_REASONS    NCOMPLT      C66727 (Completion/Reason for Non-Completion)
SCREEN_FAILURE_...     NCOMPLT      C66727 (the reasons a screened subject is not
                                    randomized; ``SCREEN FAILURE`` is itself a term)
DISPOSITION_CATEGORY   DSCAT        C74558 (Category for Disposition Event)
SEXES                  SEX          C66731 (Sex)
RACES                  RACE         C74457 (Race)
ETHNICITIES            ETHNIC       C66790 (Ethnic Group)
NO_YES                 NY           C66742 (No Yes Response)
COUNTRIES              COUNTRY      ISO 3166-1 alpha-3 (SDTM ``COUNTRY``)
ROUTES                 ROUTE        C66729 (Route of Administration)
FREQUENCIES            FREQ         C71113 (Frequency)
UNITS                  UNIT         C71620 (Unit)
=====================  ===========  =====================================================

Sponsor-defined lists (no CDISC codelist; named so in their docstrings): the disposition
``scope`` (which disposition), consent types, medical-history categories, BRAF V600 status,
AJCC M stage, site type and geographic region.

References
----------
.. [1] CDISC SDTM Controlled Terminology (NCI EVS), the codelists of the table above.
   Submission values as published; the codelist codes were checked against the NCI EVS
   listing where a public copy could be read (EPOCH C99079 with SCREENING C48262), the others
   are quoted from the CDISC CT package and should be re-checked against the package a
   submission uses.
.. [2] CDISC SDTMIG v3.4, DM (``SEX``, ``RACE``, ``ETHNIC``, ``COUNTRY``, ``AGE``), DS
   (``DSCAT``, ``DSDECOD``, ``EPOCH``; the informed consent is a ``PROTOCOL MILESTONE``), MH
   (``MHTERM``, ``MHCAT``, ``MHSTDTC``, ``MHENRF``), CM (``CMROUTE``, ``CMDOSFRQ``,
   ``CMDOSU``), IS (immunogenicity results) and PC (``PCLLOQ``).
.. [3] ISO 3166-1:2020, Codes for the representation of names of countries - Part 1:
   Country codes (alpha-3), as listed by the pycountry project's ``iso3166-1.json``.
.. [4] Gershenwald JE et al. Melanoma staging: evidence-based changes in the American Joint
   Committee on Cancer eighth edition cancer staging manual. CA Cancer J Clin 2017;67:472-492
   (M categories M0, M1a-M1d).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADA_RESULTS",
    "BRAF_STATUSES",
    "CONSENT_TYPES",
    "COUNTRIES",
    "DEATH_CAUSES",
    "DISPOSITION_CATEGORY",
    "DISPOSITION_REASONS",
    "DISPOSITION_SCOPES",
    "EPOCHS",
    "ETHNICITIES",
    "FREQUENCIES",
    "MH_CATEGORIES",
    "M_STAGES",
    "NEUTRALIZING_RESULTS",
    "NO_YES",
    "RACES",
    "REGIONS",
    "ROUTES",
    "SCREEN_FAILURE",
    "SCREEN_FAILURE_REASONS",
    "SEXES",
    "SITE_TYPES",
    "SYSTEMIC_ROUTES",
    "UNITS",
]

EPOCHS: Final = ("SCREENING", "TREATMENT", "FOLLOW-UP")
"""Trial epochs in which a disposition event happens (EPOCH subset, C99079; ``EPOCH`` of DS)."""

DISPOSITION_SCOPES: Final = ("END OF TREATMENT", "END OF STUDY", "SCREEN FAILURE")
"""Which disposition a record is (sponsor-defined; ADaM ``EOTSTT`` / ``EOSSTT`` and the screen
failure). One record per subject and scope."""

DISPOSITION_CATEGORY: Final = "DISPOSITION EVENT"
"""``DSCAT`` of every disposition record (DSCAT, C74558)."""

SCREEN_FAILURE: Final = "SCREEN FAILURE"
"""``DSDECOD`` of a screened subject who is not randomized (NCOMPLT, C66727)."""

SCREEN_FAILURE_REASONS: Final = (
    "FAILED ELIGIBILITY CRITERIA",
    "WITHDRAWAL BY SUBJECT",
    "ADVERSE EVENT",
    "DEATH",
    "PHYSICIAN DECISION",
    "LOST TO FOLLOW-UP",
    "OTHER",
)
"""Why a subject failed screening: the category kept with ``DSDECOD = "SCREEN FAILURE"``
(NCOMPLT terms, C66727, except ``FAILED ELIGIBILITY CRITERIA``, the CDASH/sponsor category of
an unmet inclusion or a present exclusion criterion)."""

DISPOSITION_REASONS: Final = (
    "COMPLETED",
    "ADVERSE EVENT",
    "PROGRESSIVE DISEASE",
    "DEATH",
    "WITHDRAWAL BY SUBJECT",
    "PHYSICIAN DECISION",
    "LOST TO FOLLOW-UP",
    "PROTOCOL DEVIATION",
    "STUDY TERMINATED BY SPONSOR",
    "OTHER",
)
"""Reasons of completion or non-completion (NCOMPLT subset; ``DSDECOD``)."""

SEXES: Final = ("F", "M", "U")
"""Sex (SEX, C66731): female, male, unknown."""

RACES: Final = (
    "AMERICAN INDIAN OR ALASKA NATIVE",
    "ASIAN",
    "BLACK OR AFRICAN AMERICAN",
    "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER",
    "WHITE",
    "MULTIPLE",
    "NOT REPORTED",
    "UNKNOWN",
    "OTHER",
)
"""Race (RACE, C74457: the five FDA/OMB categories), with ``MULTIPLE`` (SDTMIG DM: more than
one race reported), ``NOT REPORTED``, ``UNKNOWN`` and ``OTHER`` as the SDTMIG and common
practice add them (RACE is published as non-extensible: a submission explains the additions
in its reviewer's guide)."""

ETHNICITIES: Final = ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN")
"""Ethnicity (ETHNIC, C66790)."""

NO_YES: Final = ("Y", "N")
"""Yes / no answers (NY subset, C66742)."""

CONSENT_TYPES: Final = ("INITIAL", "RE-CONSENT")
"""Informed consent: the first consent, or a consent to an amended form (sponsor-defined; in
SDTM a DS ``PROTOCOL MILESTONE`` "INFORMED CONSENT OBTAINED" with the form version)."""

MH_CATEGORIES: Final = ("GENERAL", "PRIOR CANCER", "AUTOIMMUNE DISEASE")
"""Medical history categories (``MHCAT``; sponsor-defined)."""

BRAF_STATUSES: Final = ("MUTANT", "WILD-TYPE", "UNKNOWN")
"""BRAF V600 mutation status of the tumour (sponsor-defined)."""

M_STAGES: Final = ("M0", "M1a", "M1b", "M1c", "M1d")
"""Distant metastasis category, AJCC 8th edition [4]_ (the LDH suffix is a separate field)."""

SITE_TYPES: Final = ("METROPOLITAN", "REGIONAL")
"""Type of investigational site (sponsor-defined; a subgroup of the access analyses)."""

REGIONS: Final = ("NORTH AMERICA", "EUROPE", "ASIA-PACIFIC", "REST OF WORLD")
"""Geographic regions of the subgroup analyses (sponsor-defined, ADaM ``REGION1``): North
America (USA, Canada), Europe, Asia-Pacific (including Australia and New Zealand, the
largest melanoma recruiters of the region) and the rest of the world (Latin America, Africa,
the Middle East). The region is entered with the site, not derived from the country: where a
country belongs (Israel, Turkey, Russia) is the statistical analysis plan's choice."""

DEATH_CAUSES: Final = ("ADVERSE EVENT", "PROGRESSIVE DISEASE", "OTHER", "UNKNOWN")
"""Primary cause of death as collected on the death form (``DDORRES``-style categories)."""

ADA_RESULTS: Final = ("POSITIVE", "NEGATIVE")
"""Screening and confirmatory anti-drug antibody results."""

NEUTRALIZING_RESULTS: Final = ("POSITIVE", "NEGATIVE", "NOT DONE")
"""Neutralizing antibody result, or not done."""

ROUTES: Final = (
    "ORAL",
    "INTRAVENOUS",
    "INTRAMUSCULAR",
    "SUBCUTANEOUS",
    "TOPICAL",
    "TRANSDERMAL",
    "INHALATION",
    "RESPIRATORY (INHALATION)",
    "NASAL",
    "OPHTHALMIC",
    "RECTAL",
    "INTRA-ARTICULAR",
    "SUBLINGUAL",
    "VAGINAL",
    "OTHER",
)
"""Routes of administration (ROUTE subset)."""

SYSTEMIC_ROUTES: Final = frozenset({"ORAL", "INTRAVENOUS", "INTRAMUSCULAR", "SUBCUTANEOUS"})
"""The routes of :data:`ROUTES` by which a corticosteroid acts systemically."""

FREQUENCIES: Final = (
    "ONCE",
    "QD",
    "BID",
    "TID",
    "QID",
    "QOD",
    "QW",
    "Q2W",
    "Q3W",
    "Q4W",
    "Q6W",
    "QM",
    "PRN",
    "CONTINUOUS",
    "OTHER",
)
"""Dosing frequencies (FREQ subset; ``CMDOSFRQ``)."""

UNITS: Final = (
    "mg",
    "g",
    "ug",
    "mg/kg",
    "mg/m2",
    "mL",
    "IU",
    "U",
    "%",
    "PUFF",
    "TABLET",
    "CAPSULE",
    "DROP",
)
"""Dose units (UNIT subset; ``CMDOSU``)."""

COUNTRIES: Final = frozenset(
    """
ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
""".split()
)
"""ISO 3166-1 alpha-3 country codes (SDTM ``COUNTRY``) [3]_: the 249 officially assigned codes."""
