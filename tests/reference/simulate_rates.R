# Reference values for tests/design/test_simulate_rpact.py: rpact's simulation of a
# group-sequential test of two rates (risk ratio, non-inferiority margin thetaH0, normal
# approximation: the Farrington-Manning score statistic on the cumulative data of each stage),
# at planned cumulative sample sizes, for 1:1 and 2:1 allocation and with futility bounds.
# Run from the repository root: Rscript tests/reference/simulate_rates.R
library(rpact)
library(jsonlite)

out <- list(rpact_version = as.character(packageVersion("rpact")))

rates_block <- function(design, allocation, pi2, margin, iterations, seed) {
  pi1 <- c(margin * pi2, pi2)
  s <- getSimulationRates(design, groups = 2, riskRatio = TRUE, thetaH0 = margin,
                          pi1 = pi1, pi2 = pi2, plannedSubjects = c(75, 150, 225, 300),
                          allocationRatioPlanned = allocation, directionUpper = TRUE,
                          normalApproximation = TRUE, maxNumberOfIterations = iterations,
                          seed = seed)
  list(
    call = sprintf(paste(
      "getSimulationRates(design, groups = 2, riskRatio = TRUE, thetaH0 = %s, pi1 = c(%s, %s),",
      "pi2 = %s, plannedSubjects = c(75, 150, 225, 300), allocationRatioPlanned = %s,",
      "directionUpper = TRUE, normalApproximation = TRUE, maxNumberOfIterations = %d, seed = %d)"),
      margin, margin * pi2, pi2, pi2, allocation, iterations, seed),
    allocation = allocation, pi1 = pi1, pi2 = pi2, margin = margin, iterations = iterations,
    # rejectPerStage: one row per stage, one column per pi1 value
    reject_per_stage = lapply(seq_along(pi1), function(j) as.numeric(s$rejectPerStage[, j])),
    futility_per_stage = lapply(seq_along(pi1), function(j) as.numeric(s$futilityPerStage[, j])),
    overall_reject = as.numeric(s$overallReject)
  )
}

d <- getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                              informationRates = c(0.25, 0.5, 0.75, 1))
out$design <- list(
  call = paste('getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1,',
               'typeOfDesign = "asOF", informationRates = c(0.25, 0.5, 0.75, 1))'),
  critical_values = d$criticalValues, futility_bounds = NULL)
out$equal <- rates_block(d, 1, 0.4, 0.73, 100000L, 1L)
out$two_to_one <- rates_block(d, 2, 0.4, 0.73, 100000L, 2L)

f <- getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                              informationRates = c(0.25, 0.5, 0.75, 1),
                              futilityBounds = c(-0.5, 0, 0.5), bindingFutility = FALSE)
out$futility_design <- list(
  call = paste('getDesignGroupSequential(kMax = 4, alpha = 0.025, sided = 1,',
               'typeOfDesign = "asOF", informationRates = c(0.25, 0.5, 0.75, 1),',
               'futilityBounds = c(-0.5, 0, 0.5), bindingFutility = FALSE)'),
  critical_values = f$criticalValues, futility_bounds = f$futilityBounds)
out$futility <- rates_block(f, 1, 0.4, 0.73, 100000L, 3L)

write_json(out, "tests/reference/simulate_rates.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
