# Reference values for equitrial.design.sequential.
# Run from the repository root: Rscript tests/reference/sequential.R
#   (writes tests/reference/sequential.json)
# R 4.2.2, rpact 3.3.4, jsonlite.
#
# Every design block is produced by
#   design <- getDesignGroupSequential(kMax = K, alpha = alpha, sided = 1,
#                                      typeOfDesign = type, [gammaA = gamma,]
#                                      informationRates = rates
#                                      [, futilityBounds = fb, bindingFutility = FALSE])
#   ch <- getDesignCharacteristics(design)      # beta = 0.2 (rpact's default): 80 % power
# and records design$criticalValues, design$alphaSpent, design$stageLevels, ch$shift
# (the drift E[Z_K] giving 80 % power), ch$inflationFactor, ch$rejectionProbabilities and
# ch$futilityProbabilities, ch$averageSampleNumber1 and ch$averageSampleNumber0. Arrays stay arrays (I()); a missing gamma or futility is null.
# The exact call is stored with each block in the "call" field.
#
# typeOfDesign -> equitrial spending: asOF -> obrien-fleming, asP -> pocock,
# asHSD -> hwang-shih-decani, OF -> classical-obrien-fleming, P -> classical-pocock.
# rpact accepts gammaA in [-10, 5] for asHSD.
#
# Designs whose first look spends less than ~1e-8 are left out: rpact solves boundaries to an
# absolute tolerance of 1e-8 on the alpha scale and computes 2 - 2 * pnorm(.) in double
# precision, so there its z-values are not accurate to 1e-6 (e.g. asOF at t = 0.05 gives Inf).
library(rpact)
library(jsonlite)

spending_name <- c(asOF = "obrien-fleming", asP = "pocock", asHSD = "hwang-shih-decani",
                   OF = "classical-obrien-fleming", P = "classical-pocock")

fmt_vec <- function(x) sprintf("c(%s)", paste(format(x, digits = 15), collapse = ", "))

one_design <- function(rates, type, alpha = 0.025, gamma = NULL, futility = NULL) {
  k <- length(rates)
  args <- list(kMax = k, alpha = alpha, sided = 1, typeOfDesign = type)
  call <- sprintf("getDesignGroupSequential(kMax = %d, alpha = %s, sided = 1, typeOfDesign = \"%s\"",
                  k, format(alpha), type)
  if (!is.null(gamma)) {
    args$gammaA <- gamma
    call <- paste0(call, sprintf(", gammaA = %s", format(gamma)))
  }
  if (k > 1) {
    args$informationRates <- rates
    call <- paste0(call, sprintf(", informationRates = %s", fmt_vec(rates)))
  }
  if (!is.null(futility)) {
    args$futilityBounds <- futility
    args$bindingFutility <- FALSE
    call <- paste0(call, sprintf(", futilityBounds = %s, bindingFutility = FALSE", fmt_vec(futility)))
  }
  call <- paste0(call, ")")
  design <- do.call(getDesignGroupSequential, args)
  ch <- getDesignCharacteristics(design)
  list(
    call = call,
    characteristics_call = "getDesignCharacteristics(design)  # beta = 0.2",
    type_of_design = type,
    spending = unname(spending_name[type]),
    alpha = alpha,
    gamma = if (is.null(gamma)) NA else gamma,
    information_rates = I(rates),
    futility_bounds = if (is.null(futility)) NA else I(futility),
    critical_values = I(design$criticalValues),
    alpha_spent = I(design$alphaSpent),
    stage_levels = I(design$stageLevels),
    shift = ch$shift,
    inflation_factor = ch$inflationFactor,
    # rpact leaves the rejection probabilities NA for kMax = 1: written as null
    rejection_probabilities = if (k > 1) I(ch$rejectionProbabilities) else NA,
    # rpact reports one entry per interim look (K - 1), 0 without futility bounds
    futility_probabilities = I(if (k > 1) ch$futilityProbabilities else numeric(0)),
    # expected information at stopping / fixed-design information, under H1 (drift
    # sqrt(shift)) and H0; NA (null) for kMax = 1
    average_sample_number_h1 = ch$averageSampleNumber1,
    average_sample_number_h0 = ch$averageSampleNumber0
  )
}

designs <- list()
add <- function(...) designs[[length(designs) + 1]] <<- one_design(...)

# Equally spaced looks, K = 2..5, each family, one-sided alpha 0.025 and 0.05.
for (alpha in c(0.025, 0.05)) {
  for (type in c("asOF", "asP", "OF", "P")) {
    for (k in 2:5) add(seq_len(k) / k, type, alpha = alpha)
  }
  for (gamma in c(-10, -4, -2, 0, 1, 5)) {
    for (k in c(3, 5)) add(seq_len(k) / k, "asHSD", alpha = alpha, gamma = gamma)
  }
}

# Unequally spaced looks.
for (rates in list(c(0.3, 0.7, 1), c(0.25, 0.5, 1), c(0.2, 0.45, 0.75, 1), c(0.6, 1))) {
  for (type in c("asOF", "asP", "OF", "P")) add(rates, type)
  for (gamma in c(-4, -2, 0, 1)) add(rates, "asHSD", gamma = gamma)
}

# One look: the fixed design.
for (type in c("asOF", "asP", "OF", "P")) add(1, type)
add(1, "asHSD", gamma = -4)

# Non-binding futility bounds: critical values unchanged, power (hence inflation) lower.
add(seq_len(3) / 3, "asOF", futility = c(0, 0.5))
add(c(0.3, 0.7, 1), "asP", futility = c(-0.5, 0.25))
add(seq_len(4) / 4, "OF", alpha = 0.05, futility = c(-1, 0, 0.5))

out <- list(
  source = "rpact 3.3.4 on R 4.2.2: getDesignGroupSequential + getDesignCharacteristics",
  designs = designs
)
write_json(out, "tests/reference/sequential.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
