# Reference values for tests/design/test_simulate_survival.py: rpact's group-sequential survival
# simulation (log-rank test at planned event counts) on the design of
# the benchmark design of benchmarks/, under the null and under an alternative.
# Run from the repository root: Rscript tests/reference/simulate.R
library(rpact)
library(jsonlite)

out <- list(rpact_version = as.character(packageVersion("rpact")))

design_call <- paste(
  'getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asOF",',
  "informationRates = c(0.5, 1))"
)
d <- getDesignGroupSequential(kMax = 2, alpha = 0.025, sided = 1, typeOfDesign = "asOF",
                              informationRates = c(0.5, 1))
out$design <- list(call = design_call, critical_values = d$criticalValues,
                   alpha_spent = d$alphaSpent)

survival_block <- function(pi2, iterations, seed) {
  call <- sprintf(paste(
    "getSimulationSurvival(design = d, pi1 = 0.4, pi2 = %s, eventTime = 12,",
    "maxNumberOfSubjects = 300, plannedEvents = c(100, 200), accrualTime = 12,",
    "maxNumberOfIterations = %d, seed = %d)"), pi2, iterations, seed)
  s <- getSimulationSurvival(design = d, pi1 = 0.4, pi2 = pi2, eventTime = 12,
                             maxNumberOfSubjects = 300, plannedEvents = c(100, 200),
                             accrualTime = 12, maxNumberOfIterations = iterations, seed = seed)
  list(call = call, pi1 = 0.4, pi2 = pi2, iterations = iterations,
       overall_reject = s$overallReject, reject_per_stage = as.numeric(s$rejectPerStage),
       analysis_time = as.numeric(s$analysisTime), direction_upper = s$directionUpper)
}

# getSimulationSurvival(design = d, pi1 = 0.4, pi2 = 0.4, eventTime = 12,
#   maxNumberOfSubjects = 300, plannedEvents = c(100, 200), accrualTime = 12,
#   maxNumberOfIterations = 100000, seed = 1)
out$survival_null <- survival_block(0.4, 100000L, 1L)
# getSimulationSurvival(design = d, pi1 = 0.4, pi2 = 0.3, eventTime = 12,
#   maxNumberOfSubjects = 300, plannedEvents = c(100, 200), accrualTime = 12,
#   maxNumberOfIterations = 100000, seed = 1)
out$survival_alternative <- survival_block(0.3, 100000L, 1L)

write_json(out, "tests/reference/simulate.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
