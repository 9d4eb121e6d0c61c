# Reference values for tests/analysis/test_regression.py: design-based regression (svyglm) with R's survey package.
# Run from this folder:  Rscript reference_regression.R > reference_regression.json
# Written against survey 4.1.1 and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
d$big <- d$x > 10  # a logical predictor: R names its coefficient bigTRUE
N <- round(sum(d$weight))
# the margins of reference.R's raking (test_design_against_r.py reads them from reference.json)
pop_sex_male <- N - round(0.52 * N)
pop_age <- c(`35-54` = round(0.36 * N), `55+` = N - round(0.38 * N) - round(0.36 * N))

strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d)
clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
clus2 <- svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, data = d)
raked <- calibrate(clus1, ~sex + age, population = c(`(Intercept)` = N, sexmale = pop_sex_male,
                   `age35-54` = pop_age[["35-54"]], `age55+` = pop_age[["55+"]]),
                   calfun = "raking", epsilon = 1e-13, maxit = 200)

# everything a test compares: the coefficient table, confint() (Wald, t on the residual df), the residual df,
# summary()'s dispersion (svyvar of the Pearson residuals), the iterations, vcov() and predict() of ten rows
fit <- function(formula, design, family = gaussian(), level = 0.95) {
  m <- svyglm(formula, design, family = family)
  s <- summary(m)
  ci <- confint(m, level = level)
  list(terms = names(coef(m)), estimate = unname(coef(m)), se = unname(s$coefficients[, 2]),
       t = unname(s$coefficients[, 3]), p = unname(s$coefficients[, 4]),
       ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), level = level,
       degf = m$df.residual, dispersion = unname(as.numeric(s$dispersion)), iterations = m$iter,
       converged = m$converged, n = length(m$y), covariance = unname(vcov(m)),
       predicted = unname(as.vector(predict(m, newdata = d[1:10, ], type = "response"))))
}

out <- list(survey_version = as.character(packageVersion("survey")))
out$stratified <- list(
  gaussian_y = fit(y ~ x + sex + age, strat),  # y is missing in 7 rows: left out, the design kept
  logistic_used = fit(used_online ~ x + sex + urban + province, strat, quasibinomial()),
  logistic_used_90 = fit(used_online ~ x + sex + urban + province, strat, quasibinomial(), level = 0.9),
  urban_gaussian_y = fit(y ~ x, subset(strat, urban == "urban"))
)
out$cluster1 <- list(
  gaussian_y = fit(y ~ x + urban, clus1),
  logistic_used = fit(used_online ~ sex + age + urban, clus1, quasibinomial()),
  binomial_used = suppressWarnings(fit(used_online ~ sex + age + urban, clus1, binomial())),
  female_logistic_used = fit(used_online ~ x + urban, subset(clus1, sex == "female"), quasibinomial()),
  # a numeric predictor with few values (satisfaction 1 to 5) and a logical one
  logistic_satisfaction = fit(used_online ~ satisfaction + sex, clus1, quasibinomial()),
  gaussian_big = fit(y ~ big + urban, clus1)
)
out$cluster2 <- list(
  logistic_used = fit(used_online ~ x + age, clus2, quasibinomial()),
  gaussian_x = fit(x ~ sex + province, clus2)
)
out$raked <- list(
  logistic_used = fit(used_online ~ x + urban, raked, quasibinomial()),
  gaussian_y = fit(y ~ x + sex, raked),
  logistic_categorical = fit(used_online ~ urban + province, raked, quasibinomial()),
  female_logistic_used = fit(used_online ~ x + urban, subset(raked, sex == "female"), quasibinomial())
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
