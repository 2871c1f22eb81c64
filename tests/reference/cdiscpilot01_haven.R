# CDISC Pilot 01 DM and ADSL (tests/data/cdiscpilot01/, see SOURCES.md there) read by R's haven:
# the facts tests/cdisc/test_xpt_cdiscpilot01.py checks our read_xpt against.
#
# Run from the repository root:  Rscript tests/reference/cdiscpilot01_haven.R
library(haven)
library(jsonlite)

summarise <- function(path, by) {
  d <- read_xpt(path)
  first <- lapply(as.list(d[1, ]), function(v) {
    v <- v[[1]]
    if (inherits(v, "Date")) format(v, "%Y-%m-%d") else if (is.numeric(v)) sprintf("%.17g", v) else v
  })
  list(
    label = attr(d, "label"),
    rows = nrow(d),
    subjects = length(unique(d$USUBJID)),
    columns = names(d),
    labels = lapply(d, function(x) if (is.null(attr(x, "label"))) "" else attr(x, "label")),
    formats = lapply(d, function(x) if (is.null(attr(x, "format.sas"))) "" else attr(x, "format.sas")),
    counts = as.list(table(d[[by]])),
    age_mean = sprintf("%.17g", mean(d$AGE)),
    first_row = first
  )
}

result <- list(
  haven_version = as.character(packageVersion("haven")),
  R_version = R.version.string,
  dm = summarise("tests/data/cdiscpilot01/dm.xpt", "ARM"),
  adsl = summarise("tests/data/cdiscpilot01/adsl.xpt", "TRT01P")
)
writeLines(toJSON(result, auto_unbox = TRUE, null = "null", pretty = TRUE),
           "tests/reference/cdiscpilot01_haven.json", useBytes = TRUE)
