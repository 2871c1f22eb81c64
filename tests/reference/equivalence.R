# Reference values for equitrial.stats.equivalence: score TOST for two independent proportions.
# Run from the repository root: Rscript tests/reference/equivalence.R
#   (writes tests/reference/equivalence.json)
# R 4.2.2, base R plus jsonlite for output; rpact (if installed) as an extra check of the MLEs.
#
# An independent implementation written from Farrington CP, Manning G (1990), Stat Med 9:1447-1454:
#   difference, H0: p1 - p2 = delta
#     z = (p1^ - p2^ - delta) / sqrt(p1~ (1 - p1~) / n1 + p2~ (1 - p2~) / n2)
#   ratio, H0: p1 / p2 = phi
#     z = (p1^ - phi p2^) / sqrt(p1~ (1 - p1~) / n1 + phi^2 p2~ (1 - p2~) / n2)
# where (p1~, p2~) is the maximum-likelihood estimate restricted to the null: for the difference
# the root of a cubic in closed (trigonometric) form, for the ratio the smaller root of a
# quadratic. Miettinen & Nurminen (1985, Stat Med 4:213) multiply the variance by N / (N - 1).
# TOST at margin (lower, upper): p_lower = P(Z > z_lower) for H0: theta <= lower,
# p_upper = P(Z < z_upper) for H0: theta >= upper, p = max(p_lower, p_upper).
#
# So that the reference is not the same formula twice, every closed-form restricted MLE is
# checked here against two numerical maximisations of the constrained binomial log-likelihood
# (bisection on its score, which is decreasing because the log-likelihood is concave; and
# stats::optimize on the log-likelihood itself, boundaries included), and, when rpact is
# installed, against rpact's internal Farrington-Manning MLEs (another parametrisation).
library(jsonlite)

xlogy <- function(x, y) if (x == 0) 0 else x * log(y)
xdivy <- function(x, y) if (x == 0) 0 else x / y

# ---- closed-form restricted MLEs, as printed in Farrington & Manning (1990) ------------------
mle_diff_closed <- function(x1, n1, x2, n2, delta) {
  p1 <- x1 / n1; p2 <- x2 / n2; theta <- n2 / n1
  a <- 1 + theta
  b <- -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
  c <- delta^2 + delta * (2 * p1 + theta + 1) + p1 + theta * p2
  d <- -p1 * delta * (1 + delta)
  v <- b^3 / (3 * a)^3 - b * c / (6 * a^2) + d / (2 * a)
  u <- (if (v >= 0) 1 else -1) * sqrt(b^2 / (3 * a)^2 - c / (3 * a))
  w <- (pi + acos(if (u == 0) 0 else max(-1, min(1, v / u^3)))) / 3
  t1 <- 2 * u * cos(w) - b / (3 * a)
  c(t1, t1 - delta)
}
mle_ratio_closed <- function(x1, n1, x2, n2, phi) {
  A <- (n1 + n2) * phi; B <- -(n1 * phi + x1 + n2 + x2 * phi); C <- x1 + x2
  t2 <- (-B - sqrt(B^2 - 4 * A * C)) / (2 * A)
  c(phi * t2, t2)
}

# ---- numerical restricted MLEs: maximise the log-likelihood over p2 ---------------------------
# p1 = g(p2) is p2 + delta (difference) or phi * p2 (ratio); dg is its derivative.
numeric_mle <- function(x1, n1, x2, n2, g, dg, lo, hi) {
  loglik <- function(p2) {
    p1 <- g(p2)
    xlogy(x1, p1) + xlogy(n1 - x1, 1 - p1) + xlogy(x2, p2) + xlogy(n2 - x2, 1 - p2)
  }
  score <- function(p2) {
    p1 <- g(p2)
    dg * (xdivy(x1, p1) - xdivy(n1 - x1, 1 - p1)) + xdivy(x2, p2) - xdivy(n2 - x2, 1 - p2)
  }
  a <- lo; b <- hi
  for (i in 1:200) { m <- (a + b) / 2; if (score(m) > 0) a <- m else b <- m }
  bis <- (a + b) / 2
  opt <- optimize(loglik, c(lo, hi), maximum = TRUE, tol = 1e-12)$maximum
  ends <- c(lo, hi)[is.finite(sapply(c(lo, hi), loglik))]
  cand <- c(opt, ends)
  opt <- cand[which.max(sapply(cand, loglik))]
  list(bisection = c(g(bis), bis), optimize = c(g(opt), opt))
}
mle_diff_numeric <- function(x1, n1, x2, n2, delta)
  numeric_mle(x1, n1, x2, n2, function(p2) p2 + delta, 1, max(0, -delta), min(1, 1 - delta))
mle_ratio_numeric <- function(x1, n1, x2, n2, phi)
  numeric_mle(x1, n1, x2, n2, function(p2) phi * p2, phi, 0, min(1, 1 / phi))

rpact_mle <- function(x1, n1, x2, n2, theta, method) {
  if (!requireNamespace("rpact", quietly = TRUE)) return(NULL)
  ml <- rpact:::.getFarringtonManningValues(x1 / n1, x2 / n2, theta, n1 / n2, method)
  c(ml$ml1, ml$ml2)
}

checked <- 0
check_mle <- function(closed, x1, n1, x2, n2, theta, scale) {
  num <- if (scale == "difference") mle_diff_numeric(x1, n1, x2, n2, theta)
         else mle_ratio_numeric(x1, n1, x2, n2, theta)
  rp <- rpact_mle(x1, n1, x2, n2, theta, if (scale == "difference") "diff" else "ratio")
  what <- sprintf("%s %d/%d vs %d/%d at %g", scale, x1, n1, x2, n2, theta)
  if (max(abs(closed - num$bisection)) > 1e-9) stop("closed form vs bisection: ", what)
  if (max(abs(closed - num$optimize)) > 1e-6) stop("closed form vs optimize: ", what)
  if (!is.null(rp) && max(abs(closed - rp)) > 1e-9) stop("closed form vs rpact: ", what)
  checked <<- checked + 1
}

# ---- the score statistic at one bound ---------------------------------------------------------
score_z <- function(x1, n1, x2, n2, theta, scale, variance) {
  if (scale == "difference") {
    t <- mle_diff_closed(x1, n1, x2, n2, theta)
    num <- x1 / n1 - x2 / n2 - theta
    v <- t[1] * (1 - t[1]) / n1 + t[2] * (1 - t[2]) / n2
  } else {
    t <- mle_ratio_closed(x1, n1, x2, n2, theta)
    num <- x1 / n1 - theta * x2 / n2
    v <- t[1] * (1 - t[1]) / n1 + theta^2 * t[2] * (1 - t[2]) / n2
  }
  check_mle(t, x1, n1, x2, n2, theta, scale)
  if (variance == "miettinen-nurminen") v <- v * (n1 + n2) / (n1 + n2 - 1)
  num / sqrt(v)
}

tost <- function(x1, n1, x2, n2, lower, upper, scale, variance) {
  zl <- score_z(x1, n1, x2, n2, lower, scale, variance)
  zu <- score_z(x1, n1, x2, n2, upper, scale, variance)
  pl <- pnorm(zl, lower.tail = FALSE)
  pu <- pnorm(zu)
  list(call = sprintf("tost(%d, %d, %d, %d, lower = %s, upper = %s, scale = \"%s\", variance = \"%s\")",
                      x1, n1, x2, n2, format(lower, digits = 15), format(upper, digits = 15),
                      scale, variance),
       x1 = x1, n1 = n1, x2 = x2, n2 = n2, lower = lower, upper = upper, variance = variance,
       z_lower = zl, z_upper = zu, pvalue_lower = pl, pvalue_upper = pu, pvalue = max(pl, pu))
}

# Counts: Newcombe (1998) examples, equivalence-trial sizes (150/arm at ORR ~0.33), zero cells,
# x = n in one or both arms, unequal n. Margins: biosimilar ORR margins (statistics.md).
counts <- list(c(56, 70, 48, 80), c(50, 150, 49, 150), c(117, 230, 104, 228), c(9, 10, 3, 10),
               c(5, 56, 0, 29), c(10, 10, 0, 20), c(0, 30, 4, 45), c(0, 25, 0, 25),
               c(30, 30, 28, 30), c(20, 20, 20, 20), c(44, 60, 61, 61), c(1, 1, 0, 3),
               c(160, 230, 146, 228), c(3, 300, 2, 150))
margins <- list(difference = list(c(-0.15, 0.15), c(-0.12, 0.15), c(-0.18, 0.18)),
                ratio = list(c(0.73, 1.36), c(0.8, 1.25), c(0.67, 1.5), c(0.7368, 1.3572)))

out <- list()
for (scale in names(margins)) {
  rows <- list()
  for (k in counts) {
    # x1 = x2 = 0 makes the ratio's score variance 0 (z = 0/0): a convention, tested in Python.
    if (scale == "ratio" && k[1] == 0 && k[3] == 0) next
    for (m in margins[[scale]]) {
      for (variance in c("farrington-manning", "miettinen-nurminen")) {
        rows[[length(rows) + 1]] <- tost(k[1], k[2], k[3], k[4], m[1], m[2], scale, variance)
      }
    }
  }
  out[[scale]] <- rows
}
out$checked_mles <- checked
out$rpact <- if (requireNamespace("rpact", quietly = TRUE))
  as.character(packageVersion("rpact")) else "not installed"
cat(sprintf("%d restricted MLEs checked against numerical maximisation\n", checked))
write_json(out, "tests/reference/equivalence.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
