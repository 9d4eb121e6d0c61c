# Reference values for tests/sampling/test_silent_cases.py: weights that go negative under linear calibration,
# trimWeights with strict = FALSE and TRUE, and PPS inclusion probabilities, computed in R.
# Run from this folder:  cd tests/sampling/results && Rscript reference_weights_checks.R > reference_weights_checks.json
# Written against survey 4.1.1 and sampling 2.9 (Debian's r-cran-survey, r-cran-sampling) and jsonlite; the
# versions are recorded in the output. The data are the survey package's apiclus1 (183 schools, one-stage
# cluster sample of school districts), written into the output so that the tests need no R.
suppressMessages({library(survey); library(sampling); library(jsonlite)})
options(digits = 15)

data(api)
d <- apiclus1
clus1 <- svydesign(ids = ~dnum, weights = ~pw, data = d, fpc = ~fpc)
N <- sum(weights(clus1))
x_total <- sum(weights(clus1) * d$api99)

out <- list(survey_version = as.character(packageVersion("survey")),
            sampling_version = as.character(packageVersion("sampling")),
            data = list(pw = d$pw, api99 = d$api99),
            population = N, api99_total = x_total)

# 1. linear calibration (GREG) of the total of api99 to ten times its estimate: R returns the weights, 86 of
#    them negative, with no warning (calibrate() only warns when grake fails to converge)
greg10 <- calibrate(clus1, ~api99, population = c(`(Intercept)` = N, api99 = 10 * x_total), calfun = "linear")
w10 <- weights(greg10)
out$linear_10x <- list(weights = unname(w10), n = length(w10), negative = sum(w10 < 0), zero = sum(w10 == 0),
                       minimum = min(w10), maximum = max(w10), total = sum(w10))

# 2. trimWeights: strict = FALSE (R's default) trims once; strict = TRUE repeats until no weight is outside
greg11 <- calibrate(clus1, ~api99, population = c(`(Intercept)` = N, api99 = 1.1 * x_total), calfun = "linear")
w11 <- weights(greg11)
lower <- unname(quantile(w11, 0.2))
upper <- unname(quantile(w11, 0.75))
once <- weights(trimWeights(greg11, lower = lower, upper = upper))
repeated <- weights(trimWeights(greg11, lower = lower, upper = upper, strict = TRUE))
out$trim <- list(weights = unname(w11), lower = lower, upper = upper,
                 default_strict = formals(survey:::trimWeights.survey.design2)$strict,
                 once = unname(once), once_outside = sum(once < lower | once > upper),
                 strict = unname(repeated), strict_outside = sum(repeated < lower | repeated > upper))
# the negative weights of (1) trimmed at 0, once: the trimmed amount is taken from the others, so some of
# them go below 0 in turn
zero_once <- weights(trimWeights(greg10, lower = 0))
# strict = TRUE never ends here (trimWeights calls itself until R's stack runs out): the weights at 0 receive a
# share of the next negative trimmings, fall below 0 and are trimmed again
zero_strict <- tryCatch({trimWeights(greg10, lower = 0, strict = TRUE); "none"}, error = function(e) "error")
out$trim_at_zero <- list(once = unname(zero_once), once_negative = sum(zero_once < 0), strict = zero_strict)

# 3. PPS inclusion probabilities: units that would pass 1 are capped and the rest rescaled until none does
sizes <- c(500, 300, 120, 60, 40, 20, 10, 0, 5, 5)
out$pps <- list(
  small = list(size = sizes, n = 6, probability = suppressWarnings(inclusionprobabilities(sizes, 6))),
  enroll = list(size = apistrat$enroll, n = 60, probability = inclusionprobabilities(apistrat$enroll, 60)),
  # n above the units with a positive size: R gives no error but probabilities that add up to less than n
  too_many = list(size = c(3, 0, 1), n = 3, probability = suppressWarnings(inclusionprobabilities(c(3, 0, 1), 3)))
)

cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
