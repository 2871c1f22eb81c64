# Reference values for equitrial.stats.survival.cox_ph, from R's survival::coxph.
#
# Run from the repository root:  Rscript tests/reference/survival_cox.R
# Writes tests/reference/survival_cox.json (the data of every fit and R's results), so the
# Python tests need no R. Produced with R 4.2.2 and survival 3.5-3 (Debian r-cran-survival).
#
# Every double is written with 17 significant digits ("%.17g"), so Python reads back exactly
# the doubles R used. For each fit we record, from the fitted object `fit` and `s <- summary(fit)`:
#   coef = coef(fit), se = sqrt(diag(fit$var)), var = fit$var,
#   hr, hr_lower, hr_upper = s$conf.int[, c("exp(coef)", "lower .95", "upper .95")],
#   z, pvalue = s$coefficients[, c("z", "Pr(>|z|)")],
#   loglik = fit$loglik (null, fitted), score = fit$score, wald_test = fit$wald.test,
#   score/wald/lr p-values and the LR statistic from s$sctest, s$waldtest, s$logtest,
#   iter = fit$iter, n = fit$n, nevent = fit$nevent, and any warnings coxph issued.

suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

num <- function(x) {
  # A JSON array written verbatim with 17 significant digits (NA -> null, +-Inf -> +-Infinity,
  # which Python's json module reads).
  x <- as.numeric(x)
  s <- ifelse(is.na(x), "null", ifelse(is.infinite(x), ifelse(x > 0, "Infinity", "-Infinity"),
                                        sprintf("%.17g", x)))
  structure(paste0("[", paste(s, collapse = ","), "]"), class = "json")
}
num1 <- function(x) {
  stopifnot(length(x) == 1)
  structure(substr(unclass(num(x)), 2, nchar(unclass(num(x))) - 1), class = "json")
}
mat <- function(m) {
  structure(paste0("[", paste(apply(as.matrix(m), 1, function(r) unclass(num(r))),
                               collapse = ","), "]"), class = "json")
}
labels <- function(x) as.character(x)

datasets <- list()
fits <- list()

add_data <- function(name, df, columns) {
  out <- list()
  for (col in columns) {
    v <- df[[col]]
    out[[col]] <- if (is.numeric(v)) num(v) else labels(v)
  }
  datasets[[name]] <<- out
}

fit_one <- function(name, dataset, df, covariates, strata = NULL, ties = "efron",
                    iter.max = 20, note = "") {
  rhs <- paste(covariates, collapse = " + ")
  if (!is.null(strata)) rhs <- paste0(rhs, " + strata(", strata, ")")
  formula <- as.formula(paste("Surv(time, event) ~", rhs))
  warnings <- character(0)
  fit <- withCallingHandlers(
    coxph(formula, data = df, ties = ties, control = coxph.control(iter.max = iter.max)),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  s <- summary(fit)
  ci <- s$conf.int
  cf <- s$coefficients
  call <- paste0("coxph(", deparse(formula), ", data = ", dataset, ", ties = \"", ties, "\"",
                 if (iter.max != 20) paste0(", control = coxph.control(iter.max = ", iter.max, ")")
                 else "", ")")
  fits[[length(fits) + 1]] <<- list(
    name = name,
    dataset = dataset,
    call = call,
    note = note,
    covariates = as.list(covariates),
    strata = if (is.null(strata)) NULL else strata,
    ties = ties,
    iter_max = iter.max,
    coef = num(coef(fit)),
    se = num(sqrt(diag(fit$var))),
    var = mat(fit$var),
    hr = num(ci[, "exp(coef)"]),
    hr_lower = num(ci[, "lower .95"]),
    hr_upper = num(ci[, "upper .95"]),
    z = num(cf[, "z"]),
    pvalue = num(cf[, "Pr(>|z|)"]),
    loglik = num(fit$loglik),
    score = num1(fit$score),
    score_pvalue = num1(s$sctest[["pvalue"]]),
    wald_test = num1(fit$wald.test),
    wald_pvalue = num1(s$waldtest[["pvalue"]]),
    lr_test = num1(s$logtest[["test"]]),
    lr_pvalue = num1(s$logtest[["pvalue"]]),
    df = num1(s$logtest[["df"]]),
    iter = fit$iter,
    n = fit$n,
    nevent = fit$nevent,
    warnings = as.list(warnings)
  )
}

# ---- lung (NCCTG advanced lung cancer): complete cases on the columns used --------------------
lung2 <- lung[complete.cases(lung[, c("time", "status", "age", "sex", "ph.ecog", "inst")]), ]
lung2$event <- lung2$status - 1
add_data("lung", lung2, c("time", "event", "age", "sex", "ph.ecog", "inst"))
fit_one("lung_age_efron", "lung", lung2, "age")
fit_one("lung_age_breslow", "lung", lung2, "age", ties = "breslow")
fit_one("lung_multi_efron", "lung", lung2, c("age", "sex", "ph.ecog"))
fit_one("lung_multi_breslow", "lung", lung2, c("age", "sex", "ph.ecog"), ties = "breslow")
fit_one("lung_strata_sex", "lung", lung2, c("age", "ph.ecog"), strata = "sex")
fit_one("lung_strata_sex_breslow", "lung", lung2, c("age", "ph.ecog"), strata = "sex",
        ties = "breslow")
fit_one("lung_strata_inst", "lung", lung2, c("age", "sex", "ph.ecog"), strata = "inst")
fit_one("lung_iter2", "lung", lung2, c("age", "sex", "ph.ecog"), iter.max = 2,
        note = "stopped after 2 iterations: R warns that it ran out of iterations")

# ---- ovarian ---------------------------------------------------------------------------------
ov <- ovarian
ov$time <- ov$futime
ov$event <- ov$fustat
add_data("ovarian", ov, c("time", "event", "age", "resid.ds", "rx", "ecog.ps"))
fit_one("ovarian_efron", "ovarian", ov, c("age", "ecog.ps"))
fit_one("ovarian_breslow", "ovarian", ov, c("rx", "age", "resid.ds"), ties = "breslow")
fit_one("ovarian_strata_rx", "ovarian", ov, c("age", "ecog.ps"), strata = "rx")

# ---- veteran (VA lung cancer trial), stratified by cell type ---------------------------------
vet <- veteran
vet$event <- vet$status
add_data("veteran", vet, c("time", "event", "trt", "karno", "diagtime", "age", "prior",
                           "celltype"))
fit_one("veteran_strata_celltype", "veteran", vet, c("trt", "karno", "age"),
        strata = "celltype")
fit_one("veteran_strata_celltype_breslow", "veteran", vet, c("trt", "karno", "age"),
        strata = "celltype", ties = "breslow")
fit_one("veteran_all", "veteran", vet, c("trt", "karno", "diagtime", "age", "prior"))

# ---- synthetic, heavily tied: times and censoring rounded to 0.1 -----------------------------
set.seed(20240611)
n <- 2000
g <- rbinom(n, 1, 0.5)
x <- rnorm(n, 50, 10)
t <- round(rexp(n, exp(-2.3 + 0.2 * g + 0.02 * (x - 50))), 1) + 0.1
cens <- round(runif(n, 0, 30), 1) + 0.1
tied <- data.frame(time = pmin(t, cens), event = as.integer(t <= cens), g = g, x = x,
                   site = sample(c("A", "B", "C"), n, replace = TRUE))
add_data("tied", tied, c("time", "event", "g", "x", "site"))
fit_one("tied_group_efron", "tied", tied, "g")
fit_one("tied_group_breslow", "tied", tied, "g", ties = "breslow")
fit_one("tied_both_efron", "tied", tied, c("g", "x"))
fit_one("tied_both_breslow", "tied", tied, c("g", "x"), ties = "breslow")
fit_one("tied_x_efron", "tied", tied, "x")
fit_one("tied_group_strata_site", "tied", tied, c("g", "x"), strata = "site")

# ---- synthetic, one covariate, few subjects, heavy-tailed covariate (hard Newton path) -------
set.seed(7)
n <- 60
z <- rt(n, df = 1.5)
t <- round(rexp(n, exp(0.3 * pmax(pmin(z, 5), -5))), 1) + 0.1
cens <- round(runif(n, 0, 3), 1) + 0.1
single <- data.frame(time = pmin(t, cens), event = as.integer(t <= cens), z = z)
add_data("single", single, c("time", "event", "z"))
fit_one("single_efron", "single", single, "z")
fit_one("single_breslow", "single", single, "z", ties = "breslow")

# ---- near-ties: times equal up to floating-point error (coxph's timefix merges them) ---------
near <- data.frame(
  time = c(0.1 + 0.2, 0.3, 0.3, 0.7, 0.1 * 7, 0.7, 1.1, 1.1, 1.5, 2, 2.5, 3, 3.5, 4),
  event = c(1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1),
  x = c(1.2, 0.4, -0.3, 2.1, -1, 0.5, 0.7, -0.8, 1.5, 0.2, -0.6, 0.9, -1.4, 0.1)
)
stopifnot((0.1 + 0.2) != 0.3, (0.1 * 7) != 0.7)
add_data("near_ties", near, c("time", "event", "x"))
fit_one("near_ties_efron", "near_ties", near, "x",
        note = "0.1 + 0.2 and 0.3 (and 0.1 * 7 and 0.7) are tied by coxph's timefix")

# ---- monotone likelihood: every event in group 1 before any in group 0 -> infinite coef ------
mono <- data.frame(
  time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
  event = c(1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0),
  grp = c(1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0),
  w = c(0.5, -1.2, 0.3, 1.1, -0.4, 0.8, 0.2, -0.9, 1.3, -0.1, 0.6, -0.7)
)
add_data("monotone", mono, c("time", "event", "grp", "w"))
fit_one("monotone_grp", "monotone", mono, "grp",
        note = "monotone likelihood: the loglik converges while the coefficient diverges")
fit_one("monotone_grp_w", "monotone", mono, c("grp", "w"),
        note = "monotone likelihood with a second covariate: R runs out of iterations")

# ---- monotone likelihood where the information is tiny (issue 14, item 7) --------------------
# The one event has the largest x and the next subject's x is only 0.01 smaller: the coefficient
# runs to about 1500 and the information to about 2e-11, which underflows if computed as a
# difference of squared risk-set sums.
tiny <- data.frame(time = c(1, 2, 3), event = c(1, 0, 0), x = c(1, 0.99, 0))
add_data("monotone_tiny_info", tiny, c("time", "event", "x"))
fit_one("monotone_tiny_info", "monotone_tiny_info", tiny, "x",
        note = "monotone likelihood, information about 2e-11: R runs out of iterations")

out <- list(
  meta = list(
    generator = "tests/reference/survival_cox.R",
    r_version = R.version.string,
    survival_version = as.character(packageVersion("survival")),
    tolerance = "compare with rtol = 1e-6",
    event = "event = 1 for an event, 0 for censored (lung: status - 1)"
  ),
  datasets = datasets,
  fits = fits
)
writeLines(toJSON(out, auto_unbox = TRUE, pretty = TRUE, json_verbatim = TRUE, null = "null"),
           "tests/reference/survival_cox.json")
cat("wrote tests/reference/survival_cox.json with", length(fits), "fits\n")
