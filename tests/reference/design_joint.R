# Reference values for tests/design/test_design_joint_reference.py: the joint group-sequential
# design of examples/melanoma-pembrolizumab/protocol-three-interims.toml (three O'Brien-Fleming-
# type efficacy interims at information 0.25, 0.5, 0.75 plus the final; one-sided alpha 0.05 per
# one-sided test of the TOST pair; power 0.8), and the crossing probabilities of each one-sided
# test at the drifts of docs/design.md (normal approximation on the log risk ratio with the
# unrestricted variance at 150 evaluable per arm).
# Run from the repository root:  Rscript tests/reference/design_joint.R
# rpact 3.3.4, jsonlite.
suppressPackageStartupMessages({library(rpact); library(jsonlite)})

rates <- c(0.25, 0.5, 0.75, 1)
design <- getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1, typeOfDesign = "asOF",
                                   informationRates = rates)
chars <- getDesignCharacteristics(design)  # beta = design$beta = 0.2

# drift E[Z_K] of the one-sided test of `bound` at true risk ratio `theta`, rates p1 = theta p2
drift <- function(theta, bound, p2 = 0.33, n = 150) {
  p1 <- theta * p2
  (log(theta) - log(bound)) / sqrt((1 - p1) / (n * p1) + (1 - p2) / (n * p2))
}
scenarios <- list(
  list(scenario = "alternative", test = "lower", drift = drift(1, 0.73)),
  list(scenario = "alternative", test = "upper", drift = -drift(1, 1.36)),
  list(scenario = "lower margin", test = "lower", drift = drift(0.73, 0.73)),
  list(scenario = "lower margin", test = "upper", drift = -drift(0.73, 1.36)),
  list(scenario = "upper margin", test = "lower", drift = drift(1.36, 0.73)),
  list(scenario = "upper margin", test = "upper", drift = -drift(1.36, 1.36))
)
# getPowerAndAverageSampleNumber: drift = theta * sqrt(nMax) for a standardized effect theta;
# with nMax = 1 the drift is theta itself; averageSampleNumber / nMax is the expected
# information rate.
for (i in seq_along(scenarios)) {
  s <- scenarios[[i]]
  p <- getPowerAndAverageSampleNumber(design, theta = s$drift, nMax = 1)
  scenarios[[i]]$reject_per_stage <- as.numeric(p$rejectPerStage)
  scenarios[[i]]$overall_reject <- as.numeric(p$overallReject)
  scenarios[[i]]$expected_information_rate <- as.numeric(p$averageSampleNumber)
}

# The same design with non-binding futility bounds 0 and 0.5 at the first two interims (none, -6
# in rpact, at the third): futility_bound = 0 / 0.5 in the protocol's [[interim_analyses]].
futility <- getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1, typeOfDesign = "asOF",
                                     informationRates = rates, futilityBounds = c(0, 0.5, -6),
                                     bindingFutility = FALSE)
futility_chars <- getDesignCharacteristics(futility)
futility_scenarios <- list()
for (s in scenarios[1:2]) {
  p <- getPowerAndAverageSampleNumber(futility, theta = s$drift, nMax = 1)
  futility_scenarios[[length(futility_scenarios) + 1]] <- list(
    scenario = s$scenario, test = s$test, drift = s$drift,
    reject_per_stage = as.numeric(p$rejectPerStage),
    futility_per_stage = as.numeric(p$futilityPerStage),
    expected_information_rate = as.numeric(p$averageSampleNumber))
}

out <- list(
  call = paste("getDesignGroupSequential(kMax = 4, alpha = 0.05, sided = 1, typeOfDesign = 'asOF',",
               "informationRates = c(0.25, 0.5, 0.75, 1)); getDesignCharacteristics(design);",
               "getPowerAndAverageSampleNumber(design, theta = drift, nMax = 1)"),
  rpact_version = as.character(packageVersion("rpact")),
  information_rates = rates,
  critical_values = design$criticalValues,
  cumulative_alpha_spent = design$alphaSpent,
  stage_levels = design$stageLevels,
  inflation_factor = chars$inflationFactor,
  power = 0.8,
  scenarios = scenarios,
  futility = list(
    futility_bounds = c(0, 0.5),
    critical_values = futility$criticalValues,
    inflation_factor = futility_chars$inflationFactor,
    scenarios = futility_scenarios
  )
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/design_joint.json")
