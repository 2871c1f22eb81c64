# Independent reader of the XPT files written by equitrial.cdisc.xpt.write_xpt.
#
# Inputs: tests/data/haven/*.xpt (written by tests/reference/make_haven_inputs.py).
# Output: tests/reference/haven_read.json, read by tests/cdisc/test_xpt_haven.py.
#
# Values, types, labels and formats come from haven::read_xpt (haven 2.5.1, ReadStat inside);
# the storage lengths come from the NAMESTR records themselves (SAS TS-140: 140 bytes per
# variable, after the "NAMESTR HEADER RECORD" line; nlng = bytes 5-6, big-endian), read here
# with readBin, since haven does not expose a character variable's width.
#
# Run from the repository root:  Rscript tests/reference/haven_read.R
library(haven)
library(jsonlite)

namestr_lengths <- function(path) {
  raw <- readBin(path, "raw", file.info(path)$size)
  line <- grepRaw("NAMESTR HEADER RECORD", raw, fixed = TRUE) - 20  # "HEADER RECORD*******" first
  nvar <- as.integer(rawToChar(raw[(line + 54):(line + 57)]))  # columns 55-58 of the line
  first <- line + 80  # the NAMESTR records follow the 80-byte header line
  out <- list()
  for (i in seq_len(nvar)) {
    rec <- raw[(first + (i - 1) * 140):(first + i * 140 - 1)]
    name <- trimws(rawToChar(rec[9:16]))
    out[[name]] <- readBin(rec[5:6], "integer", size = 2, endian = "big", signed = FALSE)
  }
  out
}

result <- list(
  haven_version = as.character(packageVersion("haven")),
  R_version = R.version.string,
  datasets = list()
)
for (path in sort(Sys.glob("tests/data/haven/*.xpt"))) {
  d <- read_xpt(path)
  lengths <- namestr_lengths(path)
  columns <- list()
  for (name in names(d)) {
    x <- d[[name]]
    is_date <- inherits(x, "Date")
    columns[[name]] <- list(
      type = if (is.character(x)) "character" else if (is_date) "Date" else "double",
      label = if (is.null(attr(x, "label"))) "" else attr(x, "label"),
      format = if (is.null(attr(x, "format.sas"))) "" else attr(x, "format.sas"),
      length = lengths[[name]],
      values = if (is_date) {
        lapply(x, function(v) if (is.na(v)) NULL else format(v, "%Y-%m-%d"))
      } else if (is.character(x)) {
        lapply(x, function(v) v)
      } else {
        lapply(x, function(v) if (is.na(v)) NULL else sprintf("%.17g", v))
      }
    )
  }
  result$datasets[[basename(path)]] <- list(
    label = if (is.null(attr(d, "label"))) "" else attr(d, "label"),
    rows = nrow(d),
    columns = columns
  )
}
writeLines(
  toJSON(result, auto_unbox = TRUE, null = "null", pretty = TRUE),
  "tests/reference/haven_read.json",
  useBytes = TRUE
)
