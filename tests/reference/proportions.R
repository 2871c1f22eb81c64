# Reference values for equitrial.stats.proportions.
#
# Run from the repository root:  Rscript tests/reference/proportions.R
# Writes tests/reference/proportions.json (full precision). Needs R (>= 4.2) with epiR and
# jsonlite (Debian: r-base-core r-cran-epir r-cran-jsonlite).
#
# Sources of the numbers:
#   - one proportion: binom.test (Clopper-Pearson), prop.test (Wilson, with and without
#     continuity correction), qbeta (Jeffreys), the Agresti-Coull formula;
#   - difference: prop.test's Wilson limits combined by Newcombe's method 10, the Wald and
#     Agresti-Caffo formulas, and an INDEPENDENT implementation of the Miettinen-Nurminen score
#     interval written from Miettinen & Nurminen (1985): the restricted maximum likelihood
#     estimates are found by solving the constrained likelihood equation numerically (uniroot),
#     not by the closed-form cubic the Python code uses, and the limits by uniroot on the score;
#   - ratio: the same for the MN ratio score interval (MN 1985), and
#     epiR::epi.2by2(method = "cohort.count")$massoc.detail$RR.strata.wald for the Katz log
#     interval (on the table with 0.5 added to every cell when x1 or x2 is 0);
#   - stratified difference: the MN (1985) stratified score with
#     Cochran-Mantel-Haenszel weights w_h = n1h n2h / (n1h + n2h), same independent machinery;
#     the point estimate is checked against epiR's Mantel-Haenszel risk difference;
#   - CMH test: mantelhaen.test(array(...), correct = FALSE / TRUE).
#
# Before writing, the script checks its MN implementation against Newcombe (1998) Table II
# (4 decimals), the ratio against the published Fagerland-Newcombe vectors (3 decimals), and its
# likelihood-equation MLE against the Farrington-Manning closed form; it stops if any differ.

suppressPackageStartupMessages({
  library(jsonlite)
  library(epiR)
})

out_path <- file.path("tests", "reference", "proportions.json")

# ---------------------------------------------------------------------------------------------
# Independent Miettinen-Nurminen machinery

EDGE <- 1e-12 # distance from the edge of the parameter space at which equations are evaluated

# d/dp of sum(k * log(f(p))) with the term dropped when k == 0 (0 * log 0 = 0)
term <- function(k, v) if (k == 0) 0 else k / v

# MLE of (p1, p2) under p1 - p2 = delta, solving the constrained likelihood equation
#   x1/p1 - (n1-x1)/(1-p1) + x2/p2 - (n2-x2)/(1-p2) = 0,   p2 = p1 - delta,
# strictly decreasing in p1 on [max(0, delta), min(1, 1 + delta)]. The parameter space is
# mapped to s in [0, 1] so that p1, 1 - p1, p2, 1 - p2 are computed without cancellation even
# when delta is within 1e-10 of -1 or 1.
diff_point <- function(s, delta) {
  if (delta >= 0) {
    w <- 1 - delta
    list(p1 = delta + w * s, q1 = w * (1 - s), p2 = w * s, q2 = 1 - w * s)
  } else {
    w <- 1 + delta
    list(p1 = w * s, q1 = 1 - w * s, p2 = w * s - delta, q2 = w * (1 - s))
  }
}

mle_diff <- function(delta, x1, n1, x2, n2) {
  g <- function(s) {
    p <- diff_point(s, delta)
    term(x1, p$p1) - term(n1 - x1, p$q1) + term(x2, p$p2) - term(n2 - x2, p$q2)
  }
  s <- if (g(EDGE) <= 0) 0 else if (g(1 - EDGE) >= 0) 1 else
    uniroot(g, c(EDGE, 1 - EDGE), tol = 1e-15, maxiter = 1000)$root
  diff_point(s, delta)
}

var_diff <- function(delta, x1, n1, x2, n2) {
  p <- mle_diff(delta, x1, n1, x2, n2)
  N <- n1 + n2
  (p$p1 * p$q1 / n1 + p$p2 * p$q2 / n2) * N / (N - 1)
}

# score statistic; 0/0 (only at delta = estimate) is taken as 0
score_diff <- function(delta, x1, n1, x2, n2) {
  num <- x1 / n1 - x2 / n2 - delta
  v <- var_diff(delta, x1, n1, x2, n2)
  if (num == 0) return(0)
  if (v <= 0) return(sign(num) * Inf)
  num / sqrt(v)
}

# root of f in [a, b] where f(a) > 0 > f(b); used for every limit below
root <- function(f, a, b) {
  fa <- f(a)
  fb <- f(b)
  if (!(fa > 0 && fb < 0)) stop(sprintf("no sign change on [%g, %g]: %g, %g", a, b, fa, fb))
  uniroot(f, c(a, b), f.lower = fa, f.upper = fb, tol = 1e-15, maxiter = 1000)$root
}

mn_diff_ci <- function(x1, n1, x2, n2, level) {
  z <- qnorm(1 - (1 - level) / 2)
  d <- x1 / n1 - x2 / n2
  lower <- if (d == -1) -1 else
    root(function(t) score_diff(t, x1, n1, x2, n2) - z, -1 + 1e-10, d)
  upper <- if (d == 1) 1 else
    root(function(t) score_diff(t, x1, n1, x2, n2) + z, d, 1 - 1e-10)
  c(lower, upper)
}

# Farrington & Manning (1990) closed form, used only to cross-check mle_diff
fm_cubic <- function(delta, x1, n1, x2, n2) {
  p1 <- x1 / n1
  p2 <- x2 / n2
  theta <- n2 / n1
  a <- 1 + theta
  b <- -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
  c <- delta^2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
  d <- -p1 * delta * (1 + delta)
  v <- b^3 / (3 * a)^3 - b * c / (6 * a^2) + d / (2 * a)
  u <- (if (v >= 0) 1 else -1) * sqrt(max(b^2 / (3 * a)^2 - c / (3 * a), 0))
  w <- (pi + acos(if (u == 0) 0 else max(-1, min(1, v / u^3)))) / 3
  2 * u * cos(w) - b / (3 * a)
}

# MLE of p2 under p1 = phi * p2: p2 times the likelihood equation,
#   (x1 + x2) - (n1 - x1) phi p2 / (1 - phi p2) - (n2 - x2) p2 / (1 - p2) = 0,
# decreasing in p2 on (0, min(1, 1/phi)); solved in log(p2) so tiny roots keep full precision
mle_ratio <- function(phi, x1, n1, x2, n2) {
  if (x1 + x2 == 0) return(0)
  hi <- min(1, 1 / phi)
  h <- function(t) {
    p <- exp(t)
    (x1 + x2) - (if (x1 == n1) 0 else (n1 - x1) * phi * p / (1 - phi * p)) -
      (if (x2 == n2) 0 else (n2 - x2) * p / (1 - p))
  }
  b <- log(hi) + log1p(-EDGE)
  hb <- h(b)
  if (hb >= 0) return(hi)
  a <- log(hi) - 80
  exp(uniroot(h, c(a, b), f.lower = h(a), f.upper = hb, tol = 1e-15, maxiter = 1000)$root)
}

score_ratio <- function(phi, x1, n1, x2, n2) {
  p2 <- mle_ratio(phi, x1, n1, x2, n2)
  p1 <- phi * p2
  N <- n1 + n2
  v <- (p1 * (1 - p1) / n1 + phi^2 * p2 * (1 - p2) / n2) * N / (N - 1)
  num <- x1 / n1 - phi * x2 / n2
  if (num == 0) return(0)
  if (v <= 0) return(sign(num) * Inf)
  num / sqrt(v)
}

mn_ratio_ci <- function(x1, n1, x2, n2, level) {
  z <- qnorm(1 - (1 - level) / 2)
  if (x1 == 0 && x2 == 0) return(c(0, Inf))
  est <- log(x1 / n1) - log(x2 / n2)
  est <- max(-40, min(40, est))
  lower <- if (x1 == 0) 0 else
    exp(root(function(t) score_ratio(exp(t), x1, n1, x2, n2) - z, -40, est))
  upper <- if (x2 == 0) Inf else
    exp(root(function(t) score_ratio(exp(t), x1, n1, x2, n2) + z, est, 40))
  c(lower, upper)
}

strat_score <- function(delta, x1, n1, x2, n2) {
  w <- n1 * n2 / (n1 + n2)
  num <- sum(w * (x1 / n1 - x2 / n2 - delta))
  v <- sum(sapply(seq_along(x1), function(h) w[h]^2 * var_diff(delta, x1[h], n1[h], x2[h], n2[h])))
  if (abs(num) < 1e-15) return(0)
  if (v <= 0) return(sign(num) * Inf)
  num / sqrt(v)
}

mn_strat_ci <- function(x1, n1, x2, n2, level) {
  z <- qnorm(1 - (1 - level) / 2)
  w <- n1 * n2 / (n1 + n2)
  est <- sum(w * (x1 / n1 - x2 / n2)) / sum(w)
  lower <- if (all(x1 == 0 & x2 == n2)) -1 else
    root(function(t) strat_score(t, x1, n1, x2, n2) - z, -1 + 1e-10, est)
  upper <- if (all(x1 == n1 & x2 == 0)) 1 else
    root(function(t) strat_score(t, x1, n1, x2, n2) + z, est, 1 - 1e-10)
  c(est, lower, upper)
}

# ---------------------------------------------------------------------------------------------
# Self-checks against published values before anything is written

newcombe_table_ii <- list( # Newcombe (1998) Stat Med 17:873, Table II, column MN
  list(c(56, 70, 48, 80), c(0.0528, 0.3382)),
  list(c(9, 10, 3, 10), c(0.1700, 0.8406)),
  list(c(5, 56, 0, 29), c(-0.0326, 0.1933)),
  list(c(10, 10, 0, 20), c(0.7156, 1))
)
for (case in newcombe_table_ii) {
  k <- case[[1]]
  got <- round(mn_diff_ci(k[1], k[2], k[3], k[4], 0.95), 4)
  if (any(got != case[[2]])) stop("MN difference does not reproduce Newcombe Table II: ", toString(k))
}
ratio_published <- list( # Fagerland & Newcombe examples (ratesci tests), 3 decimals
  list(c(24, 73, 53, 65), c(0.280, 0.560)),
  list(c(29, 55, 11, 11), c(0.397, 0.742)),
  list(c(7, 18, 1, 18), c(1.296, 42.544))
)
for (case in ratio_published) {
  k <- case[[1]]
  got <- round(mn_ratio_ci(k[1], k[2], k[3], k[4], 0.95), 3)
  if (any(got != case[[2]])) stop("MN ratio does not reproduce the published vector: ", toString(k))
}
set.seed(20240611)
for (i in 1:2000) {
  n1 <- sample(1:60, 1)
  n2 <- sample(1:60, 1)
  x1 <- sample(0:n1, 1)
  x2 <- sample(0:n2, 1)
  delta <- runif(1, -0.999, 0.999)
  a <- mle_diff(delta, x1, n1, x2, n2)$p1
  b <- max(max(0, delta), min(min(1, 1 + delta), fm_cubic(delta, x1, n1, x2, n2)))
  if (abs(a - b) > 1e-8) stop(sprintf("cubic and likelihood MLE differ: %d/%d %d/%d %g", x1, n1, x2, n2, delta))
}

# ---------------------------------------------------------------------------------------------
# One proportion

single_cases <- rbind(
  expand.grid(x = 0:1, n = 1),
  expand.grid(x = 0:2, n = 2),
  expand.grid(x = 0:5, n = 5),
  expand.grid(x = 0:10, n = 10),
  data.frame(x = c(0, 1, 15, 40, 100, 147, 148), n = 148),
  data.frame(x = c(0, 1, 10, 20), n = 20),
  data.frame(x = c(0, 1, 28, 29), n = 29),
  data.frame(x = c(0, 1, 49, 50, 99, 100, 150, 299, 300), n = 300)
)
single <- list()
for (i in seq_len(nrow(single_cases))) {
  x <- single_cases$x[i]
  n <- single_cases$n[i]
  for (level in c(0.8, 0.9, 0.95, 0.99)) {
    a <- 1 - level
    z <- qnorm(1 - a / 2)
    # prop.test drops the continuity correction where |x - n p| < 0.5 (p = 0.5 at x = n/2):
    # choose the null p so that it applies in full; the interval itself does not depend on p
    p0 <- if (abs(x - n / 2) >= 0.5) 0.5 else 0.25
    nt <- n + z^2
    pt <- (x + z^2 / 2) / nt
    single[[length(single) + 1]] <- list(
      x = x, n = n, level = level,
      `clopper-pearson` = as.numeric(binom.test(x, n, conf.level = level)$conf.int),
      wilson = suppressWarnings(as.numeric(prop.test(x, n, correct = FALSE, conf.level = level)$conf.int)),
      `wilson-cc` = suppressWarnings(as.numeric(prop.test(x, n, p = p0, correct = TRUE, conf.level = level)$conf.int)),
      jeffreys = c(if (x == 0) 0 else qbeta(a / 2, x + 0.5, n - x + 0.5),
                   if (x == n) 1 else qbeta(1 - a / 2, x + 0.5, n - x + 0.5)),
      `agresti-coull` = c(max(0, pt - z * sqrt(pt * (1 - pt) / nt)), min(1, pt + z * sqrt(pt * (1 - pt) / nt)))
    )
  }
}

# ---------------------------------------------------------------------------------------------
# Two proportions: difference and ratio

two_cases <- rbind(
  expand.grid(x1 = 0:1, n1 = 1, x2 = 0:1, n2 = 1),
  expand.grid(x1 = 0:3, n1 = 3, x2 = 0:4, n2 = 4),
  expand.grid(x1 = c(0, 2, 5), n1 = 5, x2 = c(0, 3, 5), n2 = 5),
  data.frame(x1 = c(56, 9, 5, 10, 0, 10, 24, 29, 7, 0, 20, 0, 10),
             n1 = c(70, 10, 56, 10, 10, 10, 73, 55, 18, 20, 20, 30, 20),
             x2 = c(48, 3, 0, 0, 20, 10, 53, 11, 1, 0, 0, 1, 20),
             n2 = c(80, 10, 29, 20, 20, 20, 65, 11, 18, 20, 20, 30, 40)),
  # trial-like counts, about 300 patients
  data.frame(x1 = c(50, 0, 150, 1, 99, 45, 60, 150, 0, 75),
             n1 = c(150, 150, 150, 150, 150, 148, 152, 150, 150, 150),
             x2 = c(49, 0, 0, 0, 101, 47, 58, 150, 150, 50),
             n2 = c(150, 150, 150, 150, 150, 152, 148, 150, 150, 150))
)
set.seed(1985)
rand <- t(replicate(30, {
  n1 <- sample(2:400, 1)
  n2 <- sample(2:400, 1)
  c(sample(0:n1, 1), n1, sample(0:n2, 1), n2)
}))
two_cases <- rbind(two_cases, data.frame(x1 = rand[, 1], n1 = rand[, 2], x2 = rand[, 3], n2 = rand[, 4]))

katz <- function(x1, n1, x2, n2, level) {
  if (x1 == 0 && x2 == 0) return(list(estimate = NA, ci = c(0, Inf)))
  cc <- if (x1 == 0 || x2 == 0) 0.5 else 0
  tab <- as.table(matrix(c(x1 + cc, x2 + cc, n1 - x1 + cc, n2 - x2 + cc), nrow = 2))
  r <- suppressWarnings(epi.2by2(tab, method = "cohort.count", conf.level = level, units = 1))$massoc.detail$RR.strata.wald
  list(estimate = r$est, ci = c(r$lower, r$upper))
}

two <- list()
for (i in seq_len(nrow(two_cases))) {
  k <- as.numeric(two_cases[i, ])
  x1 <- k[1]; n1 <- k[2]; x2 <- k[3]; n2 <- k[4]
  p1 <- x1 / n1; p2 <- x2 / n2
  for (level in c(0.9, 0.95)) {
    z <- qnorm(1 - (1 - level) / 2)
    w1 <- suppressWarnings(as.numeric(prop.test(x1, n1, correct = FALSE, conf.level = level)$conf.int))
    w2 <- suppressWarnings(as.numeric(prop.test(x2, n2, correct = FALSE, conf.level = level)$conf.int))
    d <- p1 - p2
    se_w <- sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    q1 <- (x1 + 1) / (n1 + 2); q2 <- (x2 + 1) / (n2 + 2)
    se_ac <- sqrt(q1 * (1 - q1) / (n1 + 2) + q2 * (1 - q2) / (n2 + 2))
    clip <- function(v) pmin(1, pmax(-1, v))
    kz <- katz(x1, n1, x2, n2, level)
    two[[length(two) + 1]] <- list(
      x1 = x1, n1 = n1, x2 = x2, n2 = n2, level = level,
      difference = list(
        `miettinen-nurminen` = mn_diff_ci(x1, n1, x2, n2, level),
        newcombe = c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2)),
        wald = clip(d + c(-1, 1) * z * se_w),
        `agresti-caffo` = clip(q1 - q2 + c(-1, 1) * z * se_ac)
      ),
      ratio = list(
        `miettinen-nurminen` = mn_ratio_ci(x1, n1, x2, n2, level),
        log = kz$ci,
        log_estimate = kz$estimate
      )
    )
  }
}

# ---------------------------------------------------------------------------------------------
# Strata: stratified MN difference and the CMH test

strata_sets <- list(
  list(name = "three strata", x1 = c(10, 8, 3), n1 = c(30, 20, 10), x2 = c(5, 6, 1), n2 = c(30, 20, 10)),
  list(name = "trial-like, two strata", x1 = c(30, 20), n1 = c(90, 60), x2 = c(28, 21), n2 = c(88, 62)),
  list(name = "zero cells", x1 = c(0, 5, 10), n1 = c(10, 12, 10), x2 = c(0, 2, 0), n2 = c(8, 11, 10)),
  list(name = "all 100% vs 0%", x1 = c(5, 3), n1 = c(5, 3), x2 = c(0, 0), n2 = c(4, 6)),
  list(name = "one stratum, Newcombe case 1", x1 = 56, n1 = 70, x2 = 48, n2 = 80),
  list(name = "small strata", x1 = c(1, 0, 2, 1), n1 = c(2, 3, 2, 4), x2 = c(0, 1, 1, 3), n2 = c(3, 2, 2, 4)),
  list(name = "unequal allocation", x1 = c(40, 12, 7, 25, 3), n1 = c(100, 30, 20, 60, 10),
       x2 = c(18, 8, 2, 15, 4), n2 = c(50, 20, 10, 30, 5))
)
strata <- list()
for (s in strata_sets) {
  K <- length(s$x1)
  # I() keeps one-stratum vectors as JSON arrays under auto_unbox
  entry <- list(name = s$name, x1 = I(s$x1), n1 = I(s$n1), x2 = I(s$x2), n2 = I(s$n2))
  for (level in c(0.9, 0.95)) {
    r <- mn_strat_ci(s$x1, s$n1, s$x2, s$n2, level)
    entry[[sprintf("mn_cmh_%g", level)]] <- list(estimate = r[1], ci = r[2:3])
  }
  if (K >= 2) {
    arr <- array(as.numeric(rbind(s$x1, s$x2, s$n1 - s$x1, s$n2 - s$x2)), dim = c(2, 2, K))
    mh <- suppressWarnings(epi.2by2(arr, method = "cohort.count", units = 1))$massoc.detail$ARisk.mh.wald
    entry$epiR_mh_risk_difference <- mh$est
    for (correct in c(FALSE, TRUE)) {
      m95 <- mantelhaen.test(arr, correct = correct)
      m90 <- mantelhaen.test(arr, correct = correct, conf.level = 0.9)
      entry[[if (correct) "cmh_correct" else "cmh"]] <- list(
        statistic = unname(m95$statistic), pvalue = m95$p.value,
        odds_ratio = unname(m95$estimate),
        ci_95 = as.numeric(m95$conf.int), ci_90 = as.numeric(m90$conf.int)
      )
    }
  }
  if (K == 1) {
    # mantelhaen.test needs K >= 2. For one table the CMH statistic is (N - 1) / N times
    # Pearson's chi-squared, and the MH odds ratio with its RBG interval is the sample odds
    # ratio with Woolf's interval (epiR's OR.strata.wald)
    tab <- matrix(c(s$x1, s$x2, s$n1 - s$x1, s$n2 - s$x2), nrow = 2)
    N <- sum(tab)
    entry$pearson_chisq_times_n_minus_1_over_n <-
      unname(chisq.test(tab, correct = FALSE)$statistic) * (N - 1) / N
    woolf <- suppressWarnings(epi.2by2(as.table(tab), method = "cohort.count", units = 1))$massoc.detail$OR.strata.wald
    entry$woolf_odds_ratio <- list(estimate = woolf$est, ci_95 = c(woolf$lower, woolf$upper))
  }
  strata[[length(strata) + 1]] <- entry
}

# ---------------------------------------------------------------------------------------------

result <- list(
  generated_by = "Rscript tests/reference/proportions.R",
  r_version = R.version.string,
  epiR_version = as.character(packageVersion("epiR")),
  calls = list(
    single = paste(
      "clopper-pearson: binom.test(x, n, conf.level = level)$conf.int;",
      "wilson: prop.test(x, n, correct = FALSE, conf.level = level)$conf.int;",
      "wilson-cc: prop.test(x, n, p = p0, correct = TRUE, conf.level = level)$conf.int",
      "with p0 = 0.5, or 0.25 at x = n/2;",
      "jeffreys: qbeta(c(a/2, 1 - a/2), x + 0.5, n - x + 0.5), 0 at x = 0 and 1 at x = n;",
      "agresti-coull: formula, truncated to [0, 1]"),
    difference = paste(
      "miettinen-nurminen: mn_diff_ci() (uniroot on the MN score; restricted MLE by uniroot",
      "on the constrained likelihood equation); newcombe: method 10 from prop.test(correct =",
      "FALSE) Wilson limits; wald, agresti-caffo: formulas truncated to [-1, 1]"),
    ratio = paste(
      "miettinen-nurminen: mn_ratio_ci(); log: epi.2by2(as.table(matrix(c(x1, x2, n1 - x1,",
      "n2 - x2) + cc, nrow = 2)), method = 'cohort.count', conf.level = level, units = 1)",
      "$massoc.detail$RR.strata.wald with cc = 0.5 when x1 or x2 is 0"),
    strata = paste(
      "mn_cmh: mn_strat_ci(); epiR_mh_risk_difference: epi.2by2(arr, method = 'cohort.count',",
      "units = 1)$massoc.detail$ARisk.mh.wald$est; cmh: mantelhaen.test(arr, correct = ...,",
      "conf.level = 0.95 / 0.9), arr = array(rbind(x1, x2, n1 - x1, n2 - x2), c(2, 2, K));",
      "one stratum: chisq.test(tab, correct = FALSE)$statistic * (N - 1) / N and",
      "epi.2by2(tab, method = 'cohort.count', units = 1)$massoc.detail$OR.strata.wald")
  ),
  single = single,
  two = two,
  strata = strata
)
# na = "string" writes Inf as "Inf" and NA as "NA"
write_json(result, out_path, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "string")
cat("wrote", out_path, "\n")
