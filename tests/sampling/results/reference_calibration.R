# Reference values for tests/sampling/test_calibration.py: calibration with bounds (logit, bounded linear,
# bounded raking; bounds on the ratio g to the initial weight, or on the weights themselves with bounds.const),
# and the standard errors of means and totals on the calibrated design, computed with R's survey package.
# Run from this folder:  cd tests/sampling/results && Rscript reference_calibration.R > reference_calibration.json
# Written against survey 4.1.1 (Debian's r-cran-survey) and jsonlite; the version is recorded in the output.
# The data are tests/analysis/results/survey_sample.csv (208 respondents, 6 strata, 20 PSUs), read by the tests
# from there, so that they need no R.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("../../analysis/results/survey_sample.csv", stringsAsFactors = TRUE)
N <- round(sum(d$weight))
pop <- list(
  N = N,
  sex = c(female = round(0.52 * N), male = N - round(0.52 * N)),
  age = c(`18-34` = round(0.38 * N), `35-54` = round(0.36 * N), `55+` = N - round(0.38 * N) - round(0.36 * N)),
  urban = c(rural = N - round(0.40 * N), urban = round(0.40 * N)),
  province = c(P01 = round(0.22 * N), P02 = round(0.18 * N), P03 = round(0.20 * N), P04 = round(0.19 * N),
               P05 = N - round(0.22 * N) - round(0.18 * N) - round(0.20 * N) - round(0.19 * N)),
  x_total = round(sum(d$weight * d$x) * 1.05)
)
# R's population vectors, named as model.matrix names the columns (treatment contrasts, first level dropped)
main <- c(`(Intercept)` = N, sexmale = pop$sex[["male"]], `age35-54` = pop$age[["35-54"]],
          `age55+` = pop$age[["55+"]], urbanurban = pop$urban[["urban"]], x = pop$x_total)
by_province <- c(`(Intercept)` = N, provinceP02 = pop$province[["P02"]], provinceP03 = pop$province[["P03"]],
                 provinceP04 = pop$province[["P04"]], provinceP05 = pop$province[["P05"]],
                 sexmale = pop$sex[["male"]], x = pop$x_total)

clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)

stat <- function(s) list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))))
by_stat <- function(b) list(domain = as.character(b[[1]]), estimate = unname(coef(b)), se = unname(SE(b)))

# one calibrated design: its weights, the range of g = calibrated / initial weight, and estimates with their SEs
# (svymean and svytotal on the calibrated design use the calibration residuals, as analysis.Design does)
calibrated <- function(formula, population, calfun, bounds, const = FALSE) {
  cal <- calibrate(clus1, formula, population = population, calfun = calfun, bounds = bounds,
                   bounds.const = const, epsilon = 1e-13, maxit = 200)
  w <- weights(cal)
  g <- w / weights(clus1)
  held <- if (const) w else g  # what the bounds hold: the weights with bounds.const, else g
  list(calfun = calfun, bounds = bounds, bounds_const = const,
       weights = unname(w), g_min = min(g), g_max = max(g),
       at_bounds = sum(abs(held - bounds[1]) < 1e-8 * bounds[1] | abs(held - bounds[2]) < 1e-8 * bounds[2]),
       mean_y = stat(svymean(~y, cal, na.rm = TRUE)),
       total_y = stat(svytotal(~y, cal, na.rm = TRUE)),
       mean_used = stat(svymean(~used_online, cal)),
       total_used = stat(svytotal(~used_online, cal)),
       by_province_mean_used = by_stat(svyby(~used_online, ~province, cal, svymean)))
}

main_formula <- ~sex + age + urban + x
out <- list(survey_version = as.character(packageVersion("survey")),
            population = lapply(pop, function(v) if (length(v) > 1) as.list(v) else v))

# 1. logit calibration: g stays strictly inside (L, U), never at a bound
out$logit_080_125 <- calibrated(main_formula, main, "logit", c(0.8, 1.25))
out$logit_085_120 <- calibrated(main_formula, main, "logit", c(0.85, 1.2))
out$logit_province <- calibrated(~province + sex + x, by_province, "logit", c(0.7, 1.4))
# 2. bounded linear and bounded raking: some g end at a bound (31 and 127; 30 and 123)
out$linear_080_125 <- calibrated(main_formula, main, "linear", c(0.8, 1.25))
out$linear_085_120 <- calibrated(main_formula, main, "linear", c(0.85, 1.2))
out$raking_080_125 <- calibrated(main_formula, main, "raking", c(0.8, 1.25))
out$raking_085_120 <- calibrated(main_formula, main, "raking", c(0.85, 1.2))
# 3. bounds on the calibrated weights themselves (bounds.const = TRUE): R divides them by each initial weight.
#    The initial weights run from 611 to 1742, so [650, 1600] starts some g outside their bounds: linear and
#    raking still converge; logit needs every initial weight inside, as [600, 1800] has it
out$linear_weights_650_1600 <- calibrated(main_formula, main, "linear", c(650, 1600), const = TRUE)
out$raking_weights_650_1600 <- calibrated(main_formula, main, "raking", c(650, 1600), const = TRUE)
out$logit_weights_600_1800 <- calibrated(main_formula, main, "logit", c(600, 1800), const = TRUE)

# 4. what R does with bounds it cannot use
attempt <- function(...) {
  warned <- NULL
  result <- withCallingHandlers(
    tryCatch({cal <- calibrate(clus1, main_formula, population = main, ...); w <- weights(cal) / weights(clus1)
              list(outcome = "weights", g_min = min(w), g_max = max(w))},
             error = function(e) list(outcome = "error", message = conditionMessage(e))),
    warning = function(w) {warned <<- conditionMessage(w); invokeRestart("muffleWarning")})
  c(result, warning = if (is.null(warned)) NA else warned)
}
out$refused <- list(
  # logit without bounds: an error
  logit_unbounded = attempt(calfun = "logit"),
  # logit with bounds that do not contain 1 (and with initial weights outside bounds.const): R returns weights
  # with g outside the bounds, no error; we refuse both
  logit_above_one = attempt(calfun = "logit", bounds = c(1.1, 2)),
  logit_weights_outside = attempt(calfun = "logit", bounds = c(650, 1600), bounds.const = TRUE),
  # linear with a lower bound of 1: dF is 0 at the start, so grake never moves and fails
  linear_from_one = attempt(calfun = "linear", bounds = c(1, 2)),
  # bounds too narrow for the totals: no weights within them meet every total, grake fails to converge and
  # calibrate stops with "Calibration failed"
  linear_narrow = attempt(calfun = "linear", bounds = c(0.9, 1.1), epsilon = 1e-13, maxit = 200),
  raking_narrow = attempt(calfun = "raking", bounds = c(0.9, 1.1), epsilon = 1e-13, maxit = 200),
  logit_narrow = attempt(calfun = "logit", bounds = c(0.9, 1.1), epsilon = 1e-13, maxit = 200)
)

cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
