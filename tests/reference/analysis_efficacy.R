# Reference values for equitrial.analysis.efficacy, computed in R on hand-made ADaM data.
#
# Run from the repository root:  Rscript tests/reference/analysis_efficacy.R
# Writes the data, tests/data/efficacy/{adsl,adrs,adtte}.csv (60 subjects, drawn once with
# set.seed below and committed, so the Python tests read exactly these rows), and the results,
# tests/reference/analysis_efficacy.json. Produced with R 4.2.2, survival 3.5-3 (Debian
# r-cran-survival), jsonlite.
#
# Sources of the numbers (none from equitrial):
#   - response rates: the counts by table(); the Miettinen-Nurminen ratio interval and the
#     stratified MN difference with CMH weights from the INDEPENDENT R implementation of
#     tests/reference/proportions.R (uniroot on the constrained likelihood and on the score),
#     whose function definitions are evaluated here (that script checks them against Newcombe
#     1998 Table II and the Fagerland-Newcombe vectors);
#   - decisions: the interval strictly inside the margin (margin lower < lower, upper < margin
#     upper);
#   - Clopper-Pearson intervals: binom.test;
#   - Kaplan-Meier medians and CIs: survfit(conf.type = "log-log"), summary(fit)$table;
#     landmark rates: summary(fit, times = , extend = FALSE);
#   - stratified log-rank: survdiff(Surv ~ arm + strata(STRATAR));
#   - stratified Cox: coxph(Surv ~ arm + strata(STRATAR)) (Efron ties);
#   - RMST: the Kaplan-Meier step function integrated by hand up to tau, variance by the
#     Klein-Moeschberger (2003, section 4.5) sum, written here (survRM2 is not available); the
#     script stops if it differs from survival's print(fit, rmean = tau) beyond 1e-10.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

# --- the MN machinery of proportions.R (function definitions and constants only) ---------------
local({
  exprs <- parse(file.path("tests", "reference", "proportions.R"))
  for (e in exprs) {
    if (is.call(e) && identical(e[[1]], as.name("<-")) && is.name(e[[2]])) {
      rhs <- e[[3]]
      if ((is.call(rhs) && identical(rhs[[1]], as.name("function"))) || is.numeric(rhs)) {
        eval(e, envir = globalenv())
      }
    }
  }
})
stopifnot(exists("mn_ratio_ci"), exists("mn_strat_ci"), exists("mn_diff_ci"))

# --- hand-made data ----------------------------------------------------------------------------
set.seed(20240601)
n <- 60
BIO <- "Proposed pembrolizumab biosimilar"
REF <- "Keytruda (EU-sourced)"
arm <- rep(c("BIO", "REF"), length.out = n)
braf <- sample(c("mutant", "wild-type"), n, replace = TRUE)
ecog <- sample(c("0", "1"), n, replace = TRUE)
mst <- sample(c("M0-M1b, normal LDH", "M1c or elevated LDH"), n, replace = TRUE)
randdt <- as.Date("2024-01-01") + sort(sample(0:200, n, replace = TRUE))
bor24 <- ifelse(arm == "BIO",
  sample(c("CR", "PR", "SD", "PD", "NE"), n, TRUE, prob = c(.05, .35, .3, .2, .1)),
  sample(c("CR", "PR", "SD", "PD", "NE"), n, TRUE, prob = c(.05, .25, .35, .2, .15)))
# a third of the NE subjects died before week 24 (composite non-response, not missing)
ne <- which(bor24 == "NE")
died_early <- ne[seq(1, length(ne), by = 3)]
dthdt <- rep(as.Date(NA), n)
dthdt[died_early] <- randdt[died_early] + 20 + died_early
flip <- sample(n, 8)
bor24inv <- bor24
bor24inv[flip] <- sample(c("CR", "PR", "SD", "PD"), 8, TRUE)
bor <- ifelse(bor24 == "SD" & runif(n) < 0.2, "PR", bor24)
ibor <- c(CR = "iCR", PR = "iPR", SD = "iSD", PD = "iUPD", NE = "NE")[bor]
ibor[bor == "PD" & runif(n) < 0.3] <- "iSD"
adsl <- data.frame(
  USUBJID = sprintf("T-%03d", 1:n),
  TRT01P = ifelse(arm == "BIO", BIO, REF),
  ITTFL = "Y",
  PPROTFL = ifelse(1:n %% 7 == 0, "N", "Y"),
  STRATAR = paste(braf, ecog, mst, sep = " / "),
  AGE = sample(35:84, n, replace = TRUE),
  SEX = sample(c("F", "M"), n, replace = TRUE),
  REGION1 = sample(c("Europe", "North America", "Asia-Pacific"), n, TRUE, prob = c(.5, .4, .1)),
  SITETYPE = sample(c("METROPOLITAN", "REGIONAL"), n, TRUE, prob = c(.7, .3)),
  REGIMEN = sample(c("Q3W", "Q6W"), n, TRUE, prob = c(.75, .25)),
  RANDDT = format(randdt),
  DTHDT = ifelse(is.na(dthdt), "", format(dthdt)),
  stringsAsFactors = FALSE
)
rsp <- function(b) ifelse(b %in% c("CR", "PR") & is.na(dthdt), "Y", "N")
adrs <- rbind(
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "BOR24", AVALC = bor24),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "RSP24", AVALC = rsp(bor24)),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "BOR24INV", AVALC = bor24inv),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "RSP24INV", AVALC = rsp(bor24inv)),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "BOR", AVALC = bor),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "IBOR", AVALC = unname(ibor))
)
pfs <- pmax(1, round(rexp(n, ifelse(arm == "BIO", 1 / 200, 1 / 170))))
pfs_c <- pmax(1, round(runif(n, 100, 700)))
os <- pmax(pfs, round(rexp(n, 1 / 500)))
os_c <- pmax(1, round(runif(n, 300, 900)))
resp <- which(bor %in% c("CR", "PR"))
dor <- pmax(1, round(rexp(length(resp), 1 / 250)))
dor_c <- pmax(1, round(runif(length(resp), 60, 600)))
ttr <- sample(c(56, 63, 70, 119, 126, 189), length(resp), replace = TRUE)
adtte <- rbind(
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "PFS", AVAL = pmin(pfs, pfs_c),
             CNSR = as.integer(pfs > pfs_c) * 5L),
  data.frame(USUBJID = adsl$USUBJID, PARAMCD = "OS", AVAL = pmin(os, os_c),
             CNSR = as.integer(os > os_c)),
  data.frame(USUBJID = adsl$USUBJID[resp], PARAMCD = "DOR", AVAL = pmin(dor, dor_c),
             CNSR = as.integer(dor > dor_c) * 5L),
  data.frame(USUBJID = adsl$USUBJID[resp], PARAMCD = "TTR", AVAL = ttr, CNSR = 0L),
  data.frame(USUBJID = adsl$USUBJID[-resp], PARAMCD = "TTR", AVAL = pmin(pfs, pfs_c)[-resp],
             CNSR = 5L)
)
dir.create(file.path("tests", "data", "efficacy"), showWarnings = FALSE, recursive = TRUE)
write.csv(adsl, file.path("tests", "data", "efficacy", "adsl.csv"), row.names = FALSE)
write.csv(adrs, file.path("tests", "data", "efficacy", "adrs.csv"), row.names = FALSE)
write.csv(adtte, file.path("tests", "data", "efficacy", "adtte.csv"), row.names = FALSE)

# --- response analyses -------------------------------------------------------------------------
margin <- c(0.73, 1.36) # the example protocol's [hypothesis]: ratio, MN, 90 %
dmargin <- c(-0.12, 0.15) # its orr-w24-difference endpoint: difference, 95 %
inside <- function(ci, m) unname(m[1] < ci[1] && ci[2] < m[2])
av <- function(code) setNames(adrs$AVALC[adrs$PARAMCD == code], adrs$USUBJID[adrs$PARAMCD == code])

ratio_analysis <- function(ids, code, level = 0.90) {
  a <- arm[match(ids, adsl$USUBJID)]
  y <- av(code)[ids] == "Y"
  x1 <- sum(y[a == "BIO"]); n1 <- sum(a == "BIO"); x2 <- sum(y[a == "REF"]); n2 <- sum(a == "REF")
  ci <- mn_ratio_ci(x1, n1, x2, n2, level)
  list(arm_n = list(BIO = n1, REF = n2), responders = list(BIO = x1, REF = x2),
       estimate = (x1 / n1) / (x2 / n2), lower = ci[1], upper = ci[2],
       equivalent = inside(ci, margin))
}
all_ids <- adsl$USUBJID
out <- list()
out$primary <- ratio_analysis(all_ids, "RSP24")
out$per_protocol <- ratio_analysis(adsl$USUBJID[adsl$PPROTFL == "Y"], "RSP24")
out$investigator <- ratio_analysis(all_ids, "RSP24INV")

missing <- bor24 == "NE" & is.na(dthdt)
out$evaluable_only <- ratio_analysis(all_ids[!missing], "RSP24")
out$missing <- list(BIO = sum(missing & arm == "BIO"), REF = sum(missing & arm == "REF"))

# stratified: strata with both arms, CMH-weighted MN difference at 95 %
st <- adsl$STRATAR
y <- av("RSP24")[all_ids] == "Y"
keep <- sort(unique(st))
keep <- keep[sapply(keep, function(s) all(c("BIO", "REF") %in% arm[st == s]))]
sx1 <- sapply(keep, function(s) sum(y[st == s & arm == "BIO"]))
sn1 <- sapply(keep, function(s) sum(st == s & arm == "BIO"))
sx2 <- sapply(keep, function(s) sum(y[st == s & arm == "REF"]))
sn2 <- sapply(keep, function(s) sum(st == s & arm == "REF"))
sci <- mn_strat_ci(unname(sx1), unname(sn1), unname(sx2), unname(sn2), 0.95)
out$stratified <- list(estimate = sci[1], lower = sci[2], upper = sci[3], strata = length(keep),
                       equivalent = inside(sci[2:3], dmargin))

# tipping point: i of the test arm's, j of the reference arm's missing subjects as responders
p <- out$primary
grid <- list()
for (i in 0:out$missing$BIO) for (j in 0:out$missing$REF) {
  x1 <- p$responders$BIO + i; x2 <- p$responders$REF + j
  ci <- mn_ratio_ci(x1, p$arm_n$BIO, x2, p$arm_n$REF, 0.90)
  grid[[length(grid) + 1]] <- list(test_imputed = i, reference_imputed = j,
    estimate = (x1 / p$arm_n$BIO) / (x2 / p$arm_n$REF), lower = ci[1], upper = ci[2],
    equivalent = inside(ci, margin))
}
out$tipping_grid <- grid

# subgroups: ratio at 90 % where each arm has >= 5 subjects
parts <- strsplit(st, " / ", fixed = TRUE)
groups <- list(
  braf_v600 = sapply(parts, `[`, 1), ecog_ps = sapply(parts, `[`, 2),
  m_stage_ldh = sapply(parts, `[`, 3), age = ifelse(adsl$AGE < 65, "< 65", ">= 65"),
  sex = adsl$SEX, region = adsl$REGION1, `site type` = adsl$SITETYPE, regimen = adsl$REGIMEN)
sub <- list()
for (g in names(groups)) for (lv in sort(unique(groups[[g]]))) {
  ids <- all_ids[groups[[g]] == lv]
  a <- arm[groups[[g]] == lv]
  r <- if (min(sum(a == "BIO"), sum(a == "REF")) >= 5) ratio_analysis(ids, "RSP24") else {
    yy <- y[groups[[g]] == lv]
    list(arm_n = list(BIO = sum(a == "BIO"), REF = sum(a == "REF")),
         responders = list(BIO = sum(yy[a == "BIO"]), REF = sum(yy[a == "REF"])),
         estimate = NA, lower = NA, upper = NA)
  }
  sub[[length(sub) + 1]] <- list(subgroup = g, level = lv, arm_n = r$arm_n,
    responders = r$responders, estimate = r$estimate, lower = r$lower, upper = r$upper)
}
out$subgroups <- sub

rate <- function(good, code) {
  v <- av(code)[all_ids] %in% good
  res <- list()
  for (a in c("BIO", "REF")) {
    bt <- binom.test(sum(v[arm == a]), sum(arm == a))
    res[[a]] <- list(n = sum(arm == a), count = sum(v[arm == a]),
                     lower = bt$conf.int[1], upper = bt$conf.int[2])
  }
  res
}
out$dcr <- rate(c("CR", "PR", "SD"), "BOR")
out$irecist <- rate(c("iCR", "iPR"), "IBOR")
ir <- out$irecist
out$irecist$ratio <- as.list(setNames(
  mn_ratio_ci(ir$BIO$count, ir$BIO$n, ir$REF$count, ir$REF$n, 0.95), c("lower", "upper")))

# --- time to event -----------------------------------------------------------------------------
rmst_by_hand <- function(time, status, tau) {
  f <- survfit(Surv(time, status) ~ 1)
  keep <- f$time <= tau
  knots <- c(0, f$time[keep], tau)
  s <- c(1, f$surv[keep])
  area <- sum(diff(knots) * s)
  d <- f$n.event[keep]; r <- f$n.risk[keep]
  tail <- rev(cumsum(rev(diff(knots) * s)))[-1]
  hh <- ifelse(r - d == 0, 0, d / (r * (r - d)))
  se <- sqrt(sum(tail^2 * hh))
  chk <- summary(f, rmean = tau)$table[c("rmean", "se(rmean)")]
  stopifnot(abs(chk[1] - area) < 1e-10, abs(chk[2] - se) < 1e-10)
  c(area, se)
}
tte <- function(code, comparisons = TRUE) {
  d <- adtte[adtte$PARAMCD == code, ]
  d$arm <- arm[match(d$USUBJID, adsl$USUBJID)]
  d$st <- st[match(d$USUBJID, adsl$USUBJID)]
  d$event <- as.integer(d$CNSR == 0)
  res <- list(arms = list())
  for (a in c("BIO", "REF")) {
    da <- d[d$arm == a, ]
    f <- survfit(Surv(AVAL, event) ~ 1, data = da, conf.type = "log-log")
    tb <- summary(f)$table
    lm <- list()
    for (m in c(6, 12)) {
      t <- m * 365.25 / 12
      # beyond the last follow-up time summary(extend = FALSE) refuses: no rate (null)
      lm[[paste0(m, "m")]] <- if (t > max(f$time)) NA else {
        sm <- summary(f, times = t, extend = FALSE)
        list(rate = sm$surv, lower = sm$lower, upper = sm$upper)
      }
    }
    res$arms[[a]] <- list(n = nrow(da), events = sum(da$event), median = unname(tb["median"]),
      median_lower = unname(tb["0.95LCL"]), median_upper = unname(tb["0.95UCL"]), landmarks = lm)
  }
  if (comparisons) {
    d$bio <- as.integer(d$arm == "BIO")
    sd <- survdiff(Surv(AVAL, event) ~ arm + strata(st), data = d)
    res$logrank_p <- pchisq(sd$chisq, 1, lower.tail = FALSE)
    cf <- summary(coxph(Surv(AVAL, event) ~ bio + strata(st), data = d))
    res$cox <- list(hr = cf$conf.int[1, "exp(coef)"], lower = cf$conf.int[1, "lower .95"],
                    upper = cf$conf.int[1, "upper .95"])
    tau <- min(max(d$AVAL[d$arm == "BIO"]), max(d$AVAL[d$arm == "REF"]))
    rb <- rmst_by_hand(d$AVAL[d$arm == "BIO"], d$event[d$arm == "BIO"], tau)
    rr <- rmst_by_hand(d$AVAL[d$arm == "REF"], d$event[d$arm == "REF"], tau)
    dif <- rb[1] - rr[1]; se <- sqrt(rb[2]^2 + rr[2]^2); z <- qnorm(0.975)
    res$rmst <- list(tau = tau, BIO = rb[1], REF = rr[1], difference = dif,
                     lower = dif - z * se, upper = dif + z * se)
  }
  res
}
out$pfs <- tte("PFS")
out$os <- tte("OS")
out$dor <- tte("DOR", comparisons = FALSE)
tr <- adtte[adtte$PARAMCD == "TTR" & adtte$CNSR == 0, ]
tr$arm <- arm[match(tr$USUBJID, adsl$USUBJID)]
out$ttr <- lapply(c(BIO = "BIO", REF = "REF"), function(a) {
  v <- tr$AVAL[tr$arm == a]
  list(n = length(v), mean = mean(v), median = median(v), min = min(v), max = max(v))
})

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = TRUE),
           file.path("tests", "reference", "analysis_efficacy.json"))
