# CDISC Pilot 01 (tests/data/cdiscpilot01/{adsl,adae,adtte}.xpt, see SOURCES.md there) analysed
# by R: the reference of tests/analysis/test_cdisc_generic.py for the values the published
# displays do not print (every SOC's counts and Fisher p-values, the numbers at risk every 20
# days, the log-rank test, age summaries at full precision).
#
# Run from the repository root:  Rscript tests/reference/analysis_cdisc_pilot.R
library(haven)
library(survival)
library(jsonlite)

num <- function(x) sprintf("%.17g", x)
adsl <- read_xpt("tests/data/cdiscpilot01/adsl.xpt")
adae <- read_xpt("tests/data/cdiscpilot01/adae.xpt")
adtte <- read_xpt("tests/data/cdiscpilot01/adtte.xpt")

saf <- adsl[adsl$SAFFL == "Y", c("USUBJID", "TRT01A", "AGE", "AGEGR1", "SEX", "RACE")]
arms <- sort(unique(saf$TRT01A))
n_arm <- sapply(arms, function(a) sum(saf$TRT01A == a))

# --- TEAE by SOC (Table 14-5.01): safety population, TRTEMFL = "Y", SOC = AEBODSYS ----------
te <- merge(adae[adae$TRTEMFL == "Y", c("USUBJID", "AEBODSYS")], saf[, c("USUBJID", "TRT01A")])
count <- function(d) lapply(setNames(arms, arms), function(a) {
  x <- d[d$TRT01A == a, ]
  list(subjects = length(unique(x$USUBJID)), events = nrow(x))
})
fisher <- function(k) {
  ref <- "Placebo"
  lapply(setNames(setdiff(arms, ref), setdiff(arms, ref)), function(a) {
    m <- matrix(c(k[[ref]]$subjects, n_arm[[ref]] - k[[ref]]$subjects,
                  k[[a]]$subjects, n_arm[[a]] - k[[a]]$subjects), nrow = 2)
    num(fisher.test(m)$p.value)
  })
}
socs <- sort(unique(te$AEBODSYS))
teae <- list(ANY = list(counts = count(te), fisher = NULL))
teae$ANY$fisher <- fisher(teae$ANY$counts)
for (s in socs) {
  k <- count(te[te$AEBODSYS == s, ])
  teae[[s]] <- list(counts = k, fisher = fisher(k))
}

# --- KM of ADTTE per PARAM: numbers at risk every 20 days, log-rank ----------------------------
tte <- merge(adtte[, c("USUBJID", "PARAM", "AVAL", "CNSR")], saf[, c("USUBJID", "TRT01A")])
km <- list()
for (p in sort(unique(tte$PARAM))) {
  d <- tte[tte$PARAM == p, ]
  days <- seq(0, max(d$AVAL), by = 20)
  fit <- survfit(Surv(AVAL, 1 - CNSR) ~ TRT01A, data = d)
  s <- summary(fit, times = days, extend = TRUE)
  strata <- sub("^TRT01A=", "", as.character(s$strata))
  lr <- survdiff(Surv(AVAL, 1 - CNSR) ~ TRT01A, data = d)
  km[[p]] <- list(
    days = days,
    at_risk = lapply(setNames(arms, arms), function(a) s$n.risk[strata == a]),
    logrank = list(chisq = num(lr$chisq), df = length(lr$n) - 1,
                   p = num(pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE)),
                   observed = as.list(setNames(lr$obs, arms)),
                   expected = lapply(setNames(lr$exp, arms), num))
  )
}

# --- demographics (Table 14-2.01) --------------------------------------------------------------
demo <- lapply(setNames(arms, arms), function(a) {
  x <- saf[saf$TRT01A == a, ]
  list(n = nrow(x), mean = num(mean(x$AGE)), sd = num(sd(x$AGE)), median = num(median(x$AGE)),
       min = num(min(x$AGE)), max = num(max(x$AGE)),
       agegr1 = as.list(table(x$AGEGR1)), sex = as.list(table(x$SEX)),
       race = as.list(table(x$RACE)))
})

result <- list(R_version = R.version.string,
               survival_version = as.character(packageVersion("survival")),
               haven_version = as.character(packageVersion("haven")),
               n = as.list(n_arm), teae = teae, km = km, demographics = demo)
writeLines(toJSON(result, auto_unbox = TRUE, null = "null", pretty = TRUE, digits = NA),
           "tests/reference/analysis_cdisc_pilot.json", useBytes = TRUE)
