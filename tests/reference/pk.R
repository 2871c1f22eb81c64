# Reference values for equitrial.stats.pk.
# Run from the repository root: Rscript tests/reference/pk.R  (writes tests/reference/pk.json)
# R 4.2.2, base R only (stats::t.test, datasets::Theoph) plus jsonlite for output.
#
# The NCA block is an independent base-R implementation written from Gabrielsson & Weiner
# (2016), section 2.8: linear-up/log-down trapezoids; terminal slope by lm(log(conc) ~ time)
# on the last k >= 3 positive samples after tmax, best adjusted R^2, most points among fits
# within 1e-4 of the best (the WinNonlin/PKNCA rule).
library(jsonlite)

out <- list()

# ---- geometric mean ratio: exp(t.test(log(test), log(ref))) --------------------------------
set.seed(20261125)
test <- round(exp(rnorm(23, log(1500), 0.35)), 3)   # e.g. AUC, test product
ref  <- round(exp(rnorm(27, log(1400), 0.30)), 3)   # reference product
gmr <- list()
for (lvl in c(0.90, 0.95)) {
  for (eq in c(TRUE, FALSE)) {
    tt <- t.test(log(test), log(ref), var.equal = eq, conf.level = lvl)
    gmr[[length(gmr) + 1]] <- list(
      call = sprintf("exp(t.test(log(test), log(ref), var.equal = %s, conf.level = %s))", eq, lvl),
      level = lvl, variance = if (eq) "pooled" else "welch",
      estimate = exp(unname(tt$estimate[1] - tt$estimate[2])),
      lower = exp(tt$conf.int[1]), upper = exp(tt$conf.int[2]))
  }
}
gm <- t.test(log(test), conf.level = 0.95)
out$gmr <- list(test = test, reference = ref, cases = gmr,
  geometric_mean = list(call = "exp(t.test(log(test), conf.level = 0.95))",
    estimate = exp(unname(gm$estimate)), lower = exp(gm$conf.int[1]), upper = exp(gm$conf.int[2])),
  geometric_cv = list(call = "sqrt(exp(var(log(test))) - 1)", value = sqrt(exp(var(log(test))) - 1)))

# ---- NCA on datasets::Theoph (12 subjects, single oral dose) -------------------------------
auc_segments <- function(t, c) {
  dt <- diff(t); c1 <- head(c, -1); c2 <- tail(c, -1)
  ifelse(c2 < c1 & c2 > 0, dt * (c1 - c2) / log(c1 / c2), dt * (c1 + c2) / 2)
}
lambda_z <- function(t, c, imax) {
  idx <- which(seq_along(t) > imax & c > 0)
  fits <- NULL
  for (k in 3:length(idx)) {
    if (k > length(idx)) break
    use <- tail(idx, k)
    fit <- lm(log(c[use]) ~ t[use])
    s <- summary(fit)
    slope <- unname(coef(fit)[2])
    if (slope < 0) fits <- rbind(fits, c(-slope, k, s$adj.r.squared))
  }
  if (is.null(fits)) return(c(NA, 0, NA))
  ok <- fits[fits[, 3] >= max(fits[, 3]) - 1e-4, , drop = FALSE]
  ok[which.max(ok[, 2]), ]
}
nca <- list()
for (s in levels(Theoph$Subject)) {
  d <- Theoph[Theoph$Subject == s, ]
  d <- d[order(d$Time), ]
  t <- d$Time; c <- d$conc
  imax <- which.max(c); ilast <- max(which(c > 0))
  auclast <- sum(auc_segments(t[1:ilast], c[1:ilast]))
  lz <- lambda_z(t[1:ilast], c[1:ilast], imax)
  nca[[length(nca) + 1]] <- list(subject = s, time = t, conc = c,
    cmax = c[imax], tmax = t[imax], clast = c[ilast], tlast = t[ilast],
    auc_last = auclast, lambda_z = lz[1], lambda_z_points = lz[2], r2_adjusted = lz[3],
    half_life = log(2) / lz[1], auc_inf = auclast + c[ilast] / lz[1])
}
out$nca_theoph <- list(source = "datasets::Theoph, base R implementation above", subjects = nca)

write_json(out, "tests/reference/pk.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
