# Reference values for equitrial.design.sample_size.
#
# Run from the repository root:  Rscript tests/reference/sample_size.R
# Writes tests/reference/sample_size.json (full precision). Needs R (>= 4.2) with rpact (3.3.4)
# and jsonlite.
#
# Sources of the numbers:
#   - normal-approximation non-inferiority sample sizes: rpact::getSampleSizeRates with
#     thetaH0 (Farrington & Manning 1990), for the difference and (riskRatio = TRUE) the ratio,
#     one-sided alpha, with equal and unequal allocation. rpact's allocationRatioPlanned is
#     n1 / n2; nFixed1 and nFixed2 are the unrounded sizes per arm.
#   - exact power by enumeration for the closed-form intervals (Wald and Agresti-Caffo for the
#     difference, Newcombe's hybrid score from prop.test's Wilson limits, Katz log for the ratio
#     with 0.5 added to every cell when one count is 0), written here from the formulas with
#     outer() over all outcomes and dbinom() weights: independent of the Python grid code.
suppressPackageStartupMessages({
  library(rpact)
  library(jsonlite)
})

out <- list(rpact_version = as.character(packageVersion("rpact")))

# ---- rpact: Farrington-Manning non-inferiority sample sizes -----------------------------------
ni <- list(
  list(scale = "difference", pi1 = 0.33, pi2 = 0.33, bound = -0.10, alpha = 0.025, beta = 0.2, ratio = 1),
  list(scale = "difference", pi1 = 0.33, pi2 = 0.33, bound = -0.10, alpha = 0.025, beta = 0.2, ratio = 2),
  list(scale = "difference", pi1 = 0.45, pi2 = 0.40, bound = -0.12, alpha = 0.05, beta = 0.1, ratio = 0.5),
  list(scale = "difference", pi1 = 0.80, pi2 = 0.85, bound = -0.15, alpha = 0.025, beta = 0.2, ratio = 1),
  list(scale = "ratio", pi1 = 0.33, pi2 = 0.33, bound = 0.73, alpha = 0.05, beta = 0.2, ratio = 1),
  list(scale = "ratio", pi1 = 0.2835, pi2 = 0.2456, bound = 0.644, alpha = 0.025, beta = 0.2, ratio = 1),
  list(scale = "ratio", pi1 = 0.40, pi2 = 0.45, bound = 0.75, alpha = 0.025, beta = 0.1, ratio = 1.5)
)
out$noninferiority <- lapply(ni, function(s) {
  call <- sprintf(
    "getSampleSizeRates(groups = 2, thetaH0 = %s, riskRatio = %s, pi1 = %s, pi2 = %s, alpha = %s, beta = %s, sided = 1, allocationRatioPlanned = %s)",
    s$bound, s$scale == "ratio", s$pi1, s$pi2, s$alpha, s$beta, s$ratio
  )
  r <- getSampleSizeRates(
    groups = 2, thetaH0 = s$bound, riskRatio = (s$scale == "ratio"), pi1 = s$pi1, pi2 = s$pi2,
    alpha = s$alpha, beta = s$beta, sided = 1, allocationRatioPlanned = s$ratio
  )
  c(s, list(call = call, n1 = r$nFixed1, n2 = r$nFixed2))
})

# ---- exact power by enumeration, closed-form intervals ---------------------------------------
wilson <- function(x, n, level) {
  # prop.test without continuity correction gives the Wilson score interval
  t(sapply(x, function(k) as.numeric(prop.test(k, n, conf.level = level, correct = FALSE)$conf.int)))
}

limits <- function(method, n1, n2, level) {
  z <- qnorm(0.5 + level / 2)
  x1 <- 0:n1
  x2 <- 0:n2
  p1 <- x1 / n1
  p2 <- x2 / n2
  if (method %in% c("wald", "agresti-caffo")) {
    if (method == "agresti-caffo") {
      p1 <- (x1 + 1) / (n1 + 2); p2 <- (x2 + 1) / (n2 + 2); m1 <- n1 + 2; m2 <- n2 + 2
    } else {
      m1 <- n1; m2 <- n2
    }
    centre <- outer(p1, p2, "-")
    half <- z * sqrt(outer(p1 * (1 - p1) / m1, p2 * (1 - p2) / m2, "+"))
    return(list(lower = centre - half, upper = centre + half))
  }
  if (method == "newcombe") {
    w1 <- wilson(x1, n1, level)
    w2 <- wilson(x2, n2, level)
    d <- outer(p1, p2, "-")
    lower <- d - sqrt(outer((p1 - w1[, 1])^2, (w2[, 2] - p2)^2, "+"))
    upper <- d + sqrt(outer((w1[, 2] - p1)^2, (p2 - w2[, 1])^2, "+"))
    return(list(lower = lower, upper = upper))
  }
  # Katz log interval for the ratio, 0.5 added to each cell when exactly one count is 0
  a <- matrix(x1, n1 + 1, n2 + 1); c <- matrix(x2, n1 + 1, n2 + 1, byrow = TRUE)
  m <- matrix(n1, n1 + 1, n2 + 1); k <- matrix(n2, n1 + 1, n2 + 1)
  fix <- (a == 0) != (c == 0)
  a[fix] <- a[fix] + 0.5; c[fix] <- c[fix] + 0.5; m[fix] <- m[fix] + 1; k[fix] <- k[fix] + 1
  est <- (a / m) / (c / k)
  se <- sqrt(1 / a - 1 / m + 1 / c - 1 / k)
  lower <- est * exp(-z * se); upper <- est * exp(z * se)
  none <- (a == 0) & (c == 0)
  lower[none] <- 0; upper[none] <- Inf
  list(lower = lower, upper = upper)
}

exact_power <- function(method, p1, p2, n1, n2, lower_bound, upper_bound, level) {
  lim <- limits(method, n1, n2, level)
  inside <- (lim$lower > lower_bound) & (lim$upper < upper_bound)
  sum(outer(dbinom(0:n1, n1, p1), dbinom(0:n2, n2, p2)) * inside)
}

ex <- list(
  list(method = "wald", scale = "difference", p1 = 0.33, p2 = 0.33, n1 = 150, n2 = 150, lower = -0.15, upper = 0.15, level = 0.95),
  list(method = "agresti-caffo", scale = "difference", p1 = 0.35, p2 = 0.30, n1 = 120, n2 = 80, lower = -0.15, upper = 0.2, level = 0.90),
  list(method = "newcombe", scale = "difference", p1 = 0.33, p2 = 0.33, n1 = 150, n2 = 150, lower = -0.15, upper = 0.15, level = 0.95),
  list(method = "newcombe", scale = "difference", p1 = 0.1, p2 = 0.12, n1 = 40, n2 = 60, lower = -0.1, upper = Inf, level = 0.95),
  list(method = "log", scale = "ratio", p1 = 0.33, p2 = 0.33, n1 = 150, n2 = 150, lower = 0.73, upper = 1.36, level = 0.90),
  list(method = "log", scale = "ratio", p1 = 0.05, p2 = 0.06, n1 = 60, n2 = 50, lower = 0.5, upper = Inf, level = 0.90)
)
out$exact_power <- lapply(ex, function(s) {
  call <- sprintf(
    "exact_power('%s', p1 = %s, p2 = %s, n1 = %s, n2 = %s, lower_bound = %s, upper_bound = %s, level = %s)",
    s$method, s$p1, s$p2, s$n1, s$n2, s$lower, s$upper, s$level
  )
  s$power <- exact_power(s$method, s$p1, s$p2, s$n1, s$n2, s$lower, s$upper, s$level)
  s$upper <- if (is.finite(s$upper)) s$upper else "inf"
  c(s, list(call = call))
})

write_json(out, "tests/reference/sample_size.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
