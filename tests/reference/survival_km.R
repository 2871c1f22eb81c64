# Reference values for equitrial.stats.survival: Kaplan-Meier, log-rank, RMST.
#
# Run from the repository root:   Rscript tests/reference/survival_km.R
# Needs Debian's r-base-core, r-cran-survival (3.5-3 was used) and r-cran-jsonlite.
# Writes tests/reference/survival_km.json. Every block of values carries the R call that
# produced it in its "call" field. Numbers are written with jsonlite's digits = NA (15
# significant digits); NA and NaN are written as the strings "NA" and "NaN". Every data
# value below is exactly representable in 15 digits, so the tests read the same data R used.

suppressMessages(library(survival))
library(jsonlite)

# ---- data sets -------------------------------------------------------------------------------
lung_cc <- survival::lung[!is.na(survival::lung$ph.ecog), ]

set.seed(20261125)
n_ties <- 60
ties <- data.frame(
  time = sample(1:6, n_ties, replace = TRUE),
  event = rbinom(n_ties, 1, 0.7),
  group = sample(c("A", "B", "C"), n_ties, replace = TRUE),
  strata = sample(c("s1", "s2"), n_ties, replace = TRUE)
)

datasets <- list(
  # survival::aml: maintenance chemotherapy for AML (Embury 1977), 23 subjects.
  aml = data.frame(time = aml$time, event = aml$status, group = as.character(aml$x)),
  # survival::lung without the one subject with missing ph.ecog: ties, 2 sexes, 4 ECOG levels.
  lung = data.frame(time = lung_cc$time, event = as.integer(lung_cc$status == 2),
                    group = lung_cc$sex, strata = lung_cc$ph.ecog),
  # heavy ties: 60 subjects on 6 distinct times, 3 groups, 2 strata.
  ties = ties,
  # group B is censored throughout (its own curve stays at 1).
  censored_group = data.frame(
    time = c(1, 2, 3, 4, 5, 6, 7, 8, 2.5, 4.5, 6.5, 9),
    event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0),
    group = c(rep("A", 8), rep("B", 4))
  ),
  # every subject of group B is censored before the first event: E_B = 0, R drops B.
  zero_expected = data.frame(
    time = c(1, 2, 3, 4, 1.5, 2.5, 3.5, 5, 0.5, 0.7),
    event = c(1, 1, 0, 1, 1, 0, 1, 1, 0, 0),
    group = c("A", "A", "A", "A", "C", "C", "C", "C", "B", "B")
  ),
  all_censored = data.frame(time = c(2.5, 4.5, 6.5, 9), event = c(0, 0, 0, 0)),
  single_event = data.frame(time = 5, event = 1),
  single_censored = data.frame(time = 5, event = 0),
  # S = 0.75, 0.5, 0.25, 0: the median is on a flat stretch at 0.5 -> (2 + 3) / 2.
  flat_half = data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 1, 1)),
  # S = 0.75, 0.5, 0.5, 0.5: the curve ends on the flat stretch at 0.5 (print and quantile differ).
  flat_half_end = data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0)),
  # the last observation is an event: S reaches 0.
  last_event = data.frame(time = c(1, 2, 3, 4, 5), event = c(1, 0, 1, 0, 1)),
  # the median is not reached.
  not_reached = data.frame(time = 1:10, event = c(1, 0, 1, 0, 0, 0, 0, 0, 0, 0)),
  # near-equal times merged by survfit's timefix (aeqSurv): 1 and 1.00000001 (gap <= 1.5e-8);
  # 2 and 2.0000001 stay apart. Two subjects at time 0.
  near_ties = data.frame(
    time = c(1, 1.00000001, 2, 2.0000001, 3, 4, 0, 0, 5, 6),
    event = c(1, 1, 1, 0, 1, 0, 1, 0, 1, 1),
    group = c("x", "y", "x", "y", "x", "y", "x", "y", "x", "y")
  ),
  # merged by the relative rule (gap / mean distinct time <= 1.5e-8): 5e8 and 500000001.
  large_times = data.frame(
    time = c(5e8, 500000001, 6e8, 6.5e8, 7e8, 700000020, 8e8),
    event = c(1, 1, 0, 1, 1, 1, 0),
    group = c("x", "y", "x", "y", "x", "y", "x")
  )
)

# ---- Kaplan-Meier ----------------------------------------------------------------------------
num <- function(x) I(as.numeric(x))
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)

km_case <- function(name, conf_type, level) {
  d <- datasets[[name]]
  call <- sprintf('survfit(Surv(time, event) ~ 1, data = %s, conf.type = "%s", conf.int = %s)',
                  name, conf_type, level)
  fit <- survfit(Surv(time, event) ~ 1, data = d, conf.type = conf_type, conf.int = level)
  s <- summary(fit, censored = TRUE)
  tab <- summary(fit)$table
  q <- quantile(fit, probs = probs)
  list(
    dataset = name, conf_type = conf_type, level = level, call = call,
    time = num(fit$time), n_risk = num(fit$n.risk), n_event = num(fit$n.event),
    n_censor = num(fit$n.censor), surv = num(fit$surv),
    std_err_call = "summary(fit, censored = TRUE)$std.err",
    std_err = num(s$std.err), lower = num(fit$lower), upper = num(fit$upper),
    median_call = "summary(fit)$table[c('median', 'LCL', 'UCL')] (as print(fit))",
    median = unname(tab["median"]),
    median_lower = unname(tab[paste0(level, "LCL")]),
    median_upper = unname(tab[paste0(level, "UCL")]),
    quantile_call = "quantile(fit, probs = probs)",
    probs = num(probs), quantile = num(q$quantile), quantile_lower = num(q$lower),
    quantile_upper = num(q$upper)
  )
}

km_names <- c("aml", "lung", "ties", "all_censored", "single_event", "single_censored",
              "flat_half", "flat_half_end", "last_event", "not_reached", "near_ties",
              "large_times")
km <- list()
for (name in km_names) {
  for (ct in c("log", "log-log", "plain")) km[[length(km) + 1]] <- km_case(name, ct, 0.95)
}
for (ct in c("log", "log-log", "plain")) km[[length(km) + 1]] <- km_case("aml", ct, 0.9)

# ---- log-rank --------------------------------------------------------------------------------
lr_case <- function(name, formula_text, group_col = "group", strata_col = NULL) {
  d <- datasets[[name]]
  d$g <- d[[group_col]]
  f <- if (is.null(strata_col)) {
    Surv(time, event) ~ g
  } else {
    d$s <- d[[strata_col]]
    Surv(time, event) ~ g + strata(s)
  }
  fit <- survdiff(f, data = d)
  obs <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  ex <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  list(
    dataset = name, group = group_col, strata = if (is.null(strata_col)) NA else strata_col,
    call = sprintf("survdiff(%s, data = %s)", formula_text, name),
    groups = I(sort(unique(d$g))), n = num(fit$n),
    chisq = fit$chisq, df = sum(ex > 0) - 1, pvalue = fit$pvalue,
    observed = num(obs), expected = num(ex),
    var = lapply(seq_len(nrow(fit$var)), function(i) num(fit$var[i, ]))
  )
}

logrank <- list(
  lr_case("aml", "Surv(time, event) ~ group"),
  lr_case("lung", "Surv(time, event) ~ group"),
  lr_case("lung", "Surv(time, event) ~ group + strata(strata)", strata_col = "strata"),
  lr_case("lung", "Surv(time, event) ~ strata", group_col = "strata"),
  lr_case("ties", "Surv(time, event) ~ group"),
  lr_case("ties", "Surv(time, event) ~ group + strata(strata)", strata_col = "strata"),
  lr_case("censored_group", "Surv(time, event) ~ group"),
  lr_case("zero_expected", "Surv(time, event) ~ group"),
  lr_case("near_ties", "Surv(time, event) ~ group"),
  lr_case("large_times", "Surv(time, event) ~ group")
)

# ---- RMST ------------------------------------------------------------------------------------
# rmean and se(rmean) as print(fit, rmean = tau) shows them (survival:::survmean).
rmst_case <- function(name, tau) {
  d <- datasets[[name]]
  fit <- survfit(Surv(time, event) ~ 1, data = d)
  if (tau < min(fit$time)) {
    # print() and summary() refuse tau below the first time; survmean itself computes it.
    call <- sprintf("survival:::survmean(survfit(Surv(time, event) ~ 1, data = %s), rmean = %s)",
                    name, tau)
    tab <- survival:::survmean(fit, rmean = tau)$matrix
  } else {
    call <- sprintf("summary(survfit(Surv(time, event) ~ 1, data = %s), rmean = %s)$table",
                    name, tau)
    tab <- summary(fit, rmean = tau)$table
  }
  list(dataset = name, tau = tau, call = call,
       rmean = unname(tab["rmean"]), se = unname(tab["se(rmean)"]))
}

taus <- function(name) {
  t <- sort(unique(datasets[[name]]$time))
  c(t[ceiling(length(t) / 3)], (t[ceiling(length(t) / 2)] + t[ceiling(length(t) / 2) + 1]) / 2,
    max(t), max(t) * 1.5)
}
rmst <- list()
for (name in c("aml", "lung", "ties", "censored_group", "flat_half", "last_event",
               "not_reached", "all_censored")) {
  for (tau in taus(name)) rmst[[length(rmst) + 1]] <- rmst_case(name, tau)
}
rmst[[length(rmst) + 1]] <- rmst_case("single_event", 3)
rmst[[length(rmst) + 1]] <- rmst_case("single_event", 7)
rmst[[length(rmst) + 1]] <- rmst_case("aml", 4)

# Two arms from one stratified survfit; the difference is second minus first level, with a
# normal interval on se = sqrt(se1^2 + se2^2).
rmst_diff_case <- function(name, tau, level) {
  d <- datasets[[name]]
  fit <- survfit(Surv(time, event) ~ group, data = d)
  tab <- summary(fit, rmean = tau)$table
  est <- unname(tab[2, "rmean"] - tab[1, "rmean"])
  se <- sqrt(sum(tab[, "se(rmean)"]^2))
  z <- qnorm(1 - (1 - level) / 2)
  list(
    dataset = name, tau = tau, level = level,
    call = sprintf(paste0("tab <- summary(survfit(Surv(time, event) ~ group, data = %s), ",
                          "rmean = %s)$table; tab[2, 'rmean'] - tab[1, 'rmean']; ",
                          "sqrt(sum(tab[, 'se(rmean)']^2)); est + c(-1, 1) * qnorm(%s) * se"),
                   name, tau, 1 - (1 - level) / 2),
    groups = I(sort(unique(d$group))), rmean = num(tab[, "rmean"]), se = num(tab[, "se(rmean)"]),
    difference = est, se_difference = se, lower = est - z * se, upper = est + z * se,
    pvalue = 2 * pnorm(-abs(est) / se)
  )
}
rmst_difference <- list(
  rmst_diff_case("aml", 20, 0.95),
  rmst_diff_case("aml", 40, 0.9),
  rmst_diff_case("lung", 365, 0.95),
  rmst_diff_case("lung", 730, 0.95),
  rmst_diff_case("lung", 1500, 0.95),
  rmst_diff_case("censored_group", 5.5, 0.95),
  rmst_diff_case("near_ties", 3.5, 0.95)
)

out <- list(
  meta = list(
    script = "tests/reference/survival_km.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    note = "NA and NaN are the strings 'NA' and 'NaN'; both mean an undefined value."
  ),
  datasets = lapply(datasets, function(d) lapply(d, function(col) I(col))),
  km = km, logrank = logrank, rmst = rmst, rmst_difference = rmst_difference
)
write_json(out, "tests/reference/survival_km.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "string")
