# Reference values for equitrial.analysis.safety (risk differences of the overview rows) and
# equitrial.analysis.monitoring (beta-binomial posterior probabilities).
#
# Run from the repository root:  Rscript tests/reference/analysis_safety.R
# Writes tests/reference/analysis_safety.json (full precision). Needs R (>= 4.2) with jsonlite.
#
# Sources of the numbers:
#   - differences of proportions, 95%: the independent Miettinen-Nurminen implementation of
#     tests/reference/proportions.R (its function definitions are evaluated here, nothing else
#     of that script runs: constrained MLE by uniroot on the likelihood equation, limits by
#     uniroot on the score) and Newcombe's method 10 from prop.test's Wilson limits;
#   - P(p > r) for p ~ Beta(a, b): pbeta(r, a, b, lower.tail = FALSE);
#   - P(p1 - p2 > delta) for independent betas: integrate() over p2 of
#     dbeta(y, a2, b2) * pbeta(y + delta, a1, b1, lower.tail = FALSE) on the y where
#     0 < y + delta < 1, plus pbeta(-delta, a2, b2) when delta < 0; for integer a1 and
#     delta = 0 also the closed form (Miller 2015, "Formulas for Bayesian A/B testing")
#       P(p1 > p2) = sum_{i=0}^{a1-1} B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2)),
#     and the script stops if integrate() and the closed form differ by more than 1e-10.
#
# The count pairs are those of the hand-made frames of tests/analysis/test_safety.py (counted
# by hand there) and of tests/analysis/test_monitoring.py.

suppressPackageStartupMessages(library(jsonlite))

out_path <- file.path("tests", "reference", "analysis_safety.json")

# the Miettinen-Nurminen functions of proportions.R (definitions only)
for (e in parse(file.path("tests", "reference", "proportions.R"))) {
  if (is.call(e) && identical(e[[1]], as.name("<-"))) {
    rhs <- e[[3]]
    if ((is.call(rhs) && identical(rhs[[1]], as.name("function"))) ||
        identical(e[[2]], as.name("EDGE"))) {
      eval(e, globalenv())
    }
  }
}

newcombe_ci <- function(x1, n1, x2, n2, level) {
  w1 <- suppressWarnings(as.numeric(prop.test(x1, n1, correct = FALSE, conf.level = level)$conf.int))
  w2 <- suppressWarnings(as.numeric(prop.test(x2, n2, correct = FALSE, conf.level = level)$conf.int))
  p1 <- x1 / n1
  p2 <- x2 / n2
  d <- p1 - p2
  c(d - sqrt((p1 - w1[1])^2 + (w2[2] - p2)^2), d + sqrt((w1[2] - p1)^2 + (p2 - w2[1])^2))
}

# (x_test, n_test, x_reference, n_reference)
pairs <- list(
  c(3, 5, 3, 4), # any TEAE; fixture of test_safety.py
  c(3, 5, 2, 4), # treatment-related
  c(2, 5, 1, 4), # grade >= 3
  c(1, 5, 1, 4), # grade >= 3 related, serious, discontinuation, deaths
  c(1, 5, 0, 4), # fatal
  c(26, 151, 25, 149) # a demo-sized pair
)
differences <- lapply(pairs, function(p) {
  mn <- mn_diff_ci(p[1], p[2], p[3], p[4], 0.95)
  nc <- newcombe_ci(p[1], p[2], p[3], p[4], 0.95)
  list(x1 = p[1], n1 = p[2], x2 = p[3], n2 = p[4], level = 0.95,
       estimate = p[1] / p[2] - p[3] / p[4],
       mn = mn, newcombe = nc)
})

# ---------------------------------------------------------------------------------------------
# beta posteriors

tails <- list(
  c(1.7, 8.3, 0.30), # grade3-trae prior (w = 10, r = 0.17), unacceptable 0.30
  c(1.7 + 1, 8.3 + 4, 0.30), # fixture, all data: grade3-trae 1 of 5 (test)
  c(1.7 + 1, 8.3 + 3, 0.30), # 1 of 4 (reference)
  c(2.3 + 2, 7.7 + 3, 0.40), # immune-related 2 of 5 (test)
  c(2.3 + 2, 7.7 + 2, 0.40), # 2 of 4 (reference)
  c(2.3 + 2, 7.7 + 0, 0.40), # cut 2024-02-01: immune-related 2 of 2 (test)
  c(2.3 + 1, 7.7 + 1, 0.40), # 1 of 2 (reference)
  c(2.3 + 40, 7.7 + 110, 0.40), # immune-related prior + 40 of 150
  c(2.3 + 70, 7.7 + 80, 0.40), # 70 of 150: crossed
  c(0.5, 0.5, 0.1)
)
tail_out <- lapply(tails, function(t) {
  list(a = t[1], b = t[2], rate = t[3],
       probability = pbeta(t[3], t[1], t[2], lower.tail = FALSE))
})

diff_prob <- function(a1, b1, a2, b2, delta) {
  f <- function(y) dbeta(y, a2, b2) * pbeta(y + delta, a1, b1, lower.tail = FALSE)
  lo <- max(0, -delta)
  hi <- min(1, 1 - delta)
  v <- integrate(f, lo, hi, rel.tol = 1e-12, abs.tol = 1e-14, subdivisions = 1000L)$value
  if (delta < 0) v <- v + pbeta(-delta, a2, b2)
  v
}

closed_form <- function(a1, b1, a2, b2) {
  i <- 0:(a1 - 1)
  sum(exp(lbeta(a2 + i, b1 + b2) - log(b1 + i) - lbeta(1 + i, b1) - lbeta(a2, b2)))
}

# (a1, b1, a2, b2, delta): test posterior, reference posterior
diffs <- list(
  c(1.7 + 1, 8.3 + 4, 1.7 + 1, 8.3 + 3, 0.10), # fixture, all data: grade3-trae 1/5 vs 1/4
  c(2.3 + 2, 7.7 + 3, 2.3 + 2, 7.7 + 2, 0.10), # immune-related 2/5 vs 2/4
  c(1.7, 8.3 + 2, 1.7, 8.3 + 2, 0.10), # cut 2024-02-01: grade3-trae 0/2 vs 0/2
  c(2.3 + 2, 7.7 + 0, 2.3 + 1, 7.7 + 1, 0.10), # immune-related 2/2 vs 1/2
  c(1.7 + 30, 8.3 + 120, 1.7 + 25, 8.3 + 125, 0.10),
  c(1.7 + 45, 8.3 + 105, 1.7 + 20, 8.3 + 130, 0.10), # crossed
  c(1.7 + 30, 8.3 + 120, 1.7 + 25, 8.3 + 125, -0.05),
  c(3, 5, 3, 5, 0), # integer: closed form
  c(12, 40, 7, 45, 0), # integer: closed form
  c(1, 1, 1, 1, 0.5) # uniform: (1 - 0.5)^2 / 2 = 0.125
)
diff_out <- lapply(diffs, function(d) {
  p <- diff_prob(d[1], d[2], d[3], d[4], d[5])
  if (d[5] == 0 && d[1] == round(d[1])) {
    cf <- closed_form(d[1], d[2], d[3], d[4])
    if (abs(cf - p) > 1e-10) stop(sprintf("integrate %.15g vs closed form %.15g", p, cf))
  }
  list(a1 = d[1], b1 = d[2], a2 = d[3], b2 = d[4], delta = d[5], probability = p)
})
if (abs(diff_out[[length(diff_out)]]$probability - 0.125) > 1e-12) stop("uniform case")

out <- list(
  generated_by = "tests/reference/analysis_safety.R",
  r_version = R.version.string,
  differences = differences,
  tails = tail_out,
  difference_probabilities = diff_out
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), out_path)
cat("wrote", out_path, "\n")
