# Reference values for equitrial.analysis.pk_ada, pro, dosing and published (CSR 14.4-14.7).
# Run from the repository root: Rscript tests/reference/analysis_pkpro.R
# (writes tests/reference/analysis_pkpro.json). R 4.2.2; stats::t.test, stats::binom.test,
# survival 3.5-3 (survfit, coxph), jsonlite. The small hand-made study below is written to the
# JSON too; the Python tests build ADaM frames from it, so both sides read the same numbers.
library(jsonlite)
library(survival)

out <- list()
ids <- sprintf("S%02d", 1:20)
arm <- rep(c("BIO", "REF"), each = 10)
regimen <- rep(c("Q3W", "Q6W"), 10)
site <- rep(c("METROPOLITAN", "METROPOLITAN", "REGIONAL", "METROPOLITAN", "REGIONAL"), 4)

# ---- Ctrough at week 21 (ug/mL); S20 is BLQ (LLOQ 0.5 -> 0.25 under "half-lloq") ----------
ctrough <- c(31.2, 24.8, 40.1, 18.9, 27.5, 35.0, 22.2, 29.9, 45.3, 26.1,
             28.4, 33.7, 21.0, 38.2, 25.6, 30.3, 19.8, 41.7, 23.9, NA)
blq <- is.na(ctrough)
half <- ifelse(blq, 0.5 / 2, ctrough)
pk <- function(x) {
  g <- t.test(log(x), conf.level = 0.95)
  list(n = length(x), gm = exp(unname(g$estimate)), lower = exp(g$conf.int[1]),
       upper = exp(g$conf.int[2]), gcv = sqrt(exp(var(log(x))) - 1))
}
gmr <- function(t, r) {
  tt <- t.test(log(t), log(r), var.equal = TRUE, conf.level = 0.90)
  list(estimate = exp(unname(tt$estimate[1] - tt$estimate[2])),
       lower = exp(tt$conf.int[1]), upper = exp(tt$conf.int[2]))
}
sel <- function(a, reg = NULL, v = half) {
  if (is.null(reg)) v[arm == a] else v[arm == a & regimen == reg]
}
out$ctrough <- list(
  half_lloq = list(
    BIO = pk(sel("BIO")), REF = pk(sel("REF")), gmr = gmr(sel("BIO"), sel("REF")),
    Q3W = list(BIO = pk(sel("BIO", "Q3W")), REF = pk(sel("REF", "Q3W")),
               gmr = gmr(sel("BIO", "Q3W"), sel("REF", "Q3W"))),
    Q6W = list(BIO = pk(sel("BIO", "Q6W")), REF = pk(sel("REF", "Q6W")),
               gmr = gmr(sel("BIO", "Q6W"), sel("REF", "Q6W")))),
  exclude = list(REF = pk(ctrough[arm == "REF" & !blq]),
                 gmr = gmr(ctrough[arm == "BIO"], ctrough[arm == "REF" & !blq])))

# ---- ADA status and response -------------------------------------------------------------
ada <- c("NEGATIVE", "TREATMENT-INDUCED", "NEGATIVE", "NEGATIVE", "NOT EVALUABLE",
         "NEGATIVE", "TREATMENT-BOOSTED", "NEGATIVE", "NEGATIVE", "NEGATIVE",
         "TREATMENT-INDUCED", "NEGATIVE", "NEGATIVE", "TREATMENT-UNAFFECTED", "NEGATIVE",
         "NEGATIVE", "NEGATIVE", "TREATMENT-INDUCED", "NEGATIVE", "NEGATIVE")
nab <- ids %in% c("S02", "S18")
resp <- ids %in% c("S01", "S02", "S04", "S09", "S11", "S14", "S15", "S19")
exact <- function(x, n) {
  b <- binom.test(x, n, conf.level = 0.95)
  list(x = x, n = n, estimate = x / n, lower = b$conf.int[1], upper = b$conf.int[2])
}
te <- ada %in% c("TREATMENT-INDUCED", "TREATMENT-BOOSTED")
ev <- ada != "NOT EVALUABLE"
out$ada <- list(
  BIO = list(te = exact(sum(te & ev & arm == "BIO"), sum(ev & arm == "BIO")),
             nab = exact(sum(nab & ev & arm == "BIO"), sum(ev & arm == "BIO"))),
  REF = list(te = exact(sum(te & ev & arm == "REF"), sum(ev & arm == "REF")),
             nab = exact(sum(nab & ev & arm == "REF"), sum(ev & arm == "REF"))),
  orr_ref_negative = exact(sum(resp & arm == "REF" & ev & !te), sum(arm == "REF" & ev & !te)))

# ---- PRO: PF2 change at week 27 (Welch), QL2 time to deterioration (days) ----------------
chg27 <- c(-8.3, 0, 16.7, -25, 8.3, NA, -16.7, 0, 33.3, -8.3,
           0, 8.3, -16.7, -33.3, 0, 16.7, -8.3, 8.3, NA, -25)
w <- t.test(chg27[arm == "BIO"], chg27[arm == "REF"], var.equal = FALSE, conf.level = 0.95)
out$welch <- list(estimate = unname(w$estimate[1] - w$estimate[2]), lower = w$conf.int[1],
                  upper = w$conf.int[2], df = unname(w$parameter), pvalue = w$p.value,
                  n_test = sum(!is.na(chg27[arm == "BIO"])),
                  n_reference = sum(!is.na(chg27[arm == "REF"])))
ttd <- c(63, 126, 189, 252, 63, 315, 126, 378, 189, 441,
         63, 63, 126, 189, 126, 252, 63, 315, 189, 126)
ttd_event <- c(1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1)
km_med <- function(t, e) {
  f <- survfit(Surv(t, e) ~ 1, conf.type = "log-log")
  q <- quantile(f, 0.5)
  list(median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
}
cx <- coxph(Surv(ttd, ttd_event) ~ as.numeric(arm == "BIO"), ties = "efron")
out$ttd <- list(BIO = km_med(ttd[arm == "BIO"], ttd_event[arm == "BIO"]),
                REF = km_med(ttd[arm == "REF"], ttd_event[arm == "REF"]),
                hr = exp(unname(coef(cx))), lower = exp(unname(confint(cx)[1])),
                upper = exp(unname(confint(cx)[2])))

# ---- PFS (days) of the reference arm: median and 6-month rate, months = days / 30.4375 -----
pfs_days <- c(120, 250, 64, 400, 190, 130, 520, 61, 300, 180,
              95, 187, 260, 62, 410, 126, 700, 250, 63, 189)
pfs_cnsr <- c(0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0)
r <- arm == "REF"
f <- survfit(Surv(pfs_days[r] / 30.4375, 1 - pfs_cnsr[r]) ~ 1, conf.type = "log-log")
q <- quantile(f, 0.5)
s6 <- summary(f, times = 6)
out$pfs_ref <- list(median = unname(q$quantile), lower = unname(q$lower),
                    upper = unname(q$upper), rate6 = 100 * s6$surv,
                    rate6_lower = 100 * s6$lower, rate6_upper = 100 * s6$upper)

# ---- grade >= 3 AEs (TEAE; RELFL marks treatment-related) ---------------------------------
g3 <- ids %in% c("S03", "S07", "S12", "S16", "S17")
rel <- ids %in% c("S03", "S12", "S17")
out$trae_ref <- exact(sum(rel & r), sum(r))
out$site <- list(
  orr_all_metro = exact(sum(resp & site == "METROPOLITAN"), sum(site == "METROPOLITAN")),
  orr_all_regional = exact(sum(resp & site == "REGIONAL"), sum(site == "REGIONAL")),
  g3_ref_metro = exact(sum(g3 & r & site == "METROPOLITAN"), sum(r & site == "METROPOLITAN")))

# ---- exposure by regimen: two summaries per subject period ---------------------------------
ninf <- c(7, 4, 12, 2, 7, 3, 10, 5, 8, 4, 6, 3, 11, 2, 9, 5, 7, 4, 12, 3)
durd <- ninf * ifelse(regimen == "Q3W", 21, 42)
totdose <- ninf * ifelse(regimen == "Q3W", 200, 400)
exposure <- list()
for (g in c("Q3W", "Q6W")) {
  k <- regimen == g
  years <- sum(durd[k]) / 365.25
  exposure[[g]] <- list(subjects = sum(k), infusions_per_py = sum(ninf[k]) / years,
                        mg_per_py = sum(totdose[k]) / years, mg_mean = mean(totdose[k]),
                        mg_median = median(totdose[k]))
}
out$exposure <- exposure

out$data <- list(ids = ids, arm = arm, regimen = regimen, site = site, ctrough = ctrough,
                 ada = ada, nab = nab, resp = resp, chg27 = chg27, ttd = ttd,
                 ttd_event = ttd_event, pfs_days = pfs_days, pfs_cnsr = pfs_cnsr, g3 = g3,
                 rel = rel, ninf = ninf, durd = durd, totdose = totdose)
write_json(out, "tests/reference/analysis_pkpro.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
