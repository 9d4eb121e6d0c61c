# Reference values for tests/analysis and tests/sampling, computed with R's survey package.
# Run from this folder:  Rscript reference.R > reference.json
# Written against survey 4.1.1 (Debian's r-cran-survey) and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$satisfaction <- factor(d$satisfaction)
N <- round(sum(d$weight))
pop <- list(
  N = N,
  sex = c(female = round(0.52 * N), male = N - round(0.52 * N)),
  age = c(`18-34` = round(0.38 * N), `35-54` = round(0.36 * N), `55+` = N - round(0.38 * N) - round(0.36 * N)),
  sex_urban = c(female.rural = round(0.30 * N), male.rural = round(0.29 * N),
                female.urban = round(0.22 * N), male.urban = N - round(0.30 * N) - round(0.29 * N) - round(0.22 * N)),
  x_total = round(sum(d$weight * d$x) * 1.05)
)

stat <- function(s) {
  out <- list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))))
  df <- attr(s, "deff")
  if (!is.null(df)) out$deff <- unname(as.vector(if (is.matrix(df)) diag(df) else df))
  out
}
by_stat <- function(b) list(domain = as.character(b[[1]]), estimate = unname(coef(b)), se = unname(SE(b)),
                            deff = unname(deff(b)))
ratio_stat <- function(r) list(estimate = unname(as.vector(coef(r))), se = unname(as.vector(SE(r))),
                               deff = unname(as.vector(attr(r, "deff"))))
out <- list(survey_version = as.character(packageVersion("survey")),
            population = lapply(pop, function(v) if (length(v) > 1) as.list(v) else v))

# 1. stratified element sample with fpc (population counts per stratum)
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d)
out$stratified <- list(
  mean_y = stat(svymean(~y, strat, na.rm = TRUE, deff = TRUE)),
  total_y = stat(svytotal(~y, strat, na.rm = TRUE, deff = TRUE)),
  mean_used = stat(svymean(~used_online, strat, deff = TRUE)),
  proportion_satisfaction = stat(svymean(~satisfaction, strat, deff = TRUE)),
  ratio_y_x = ratio_stat(svyratio(~y, ~x, subset(strat, !is.na(y)), deff = TRUE)),
  by_province_mean_used = by_stat(svyby(~used_online, ~province, strat, svymean, deff = TRUE)),
  by_province_mean_y = by_stat(svyby(~y, ~province, strat, svymean, na.rm = TRUE, deff = TRUE))
)

# 2. one-stage cluster sample (PSUs with replacement, no fpc)
clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
out$cluster1 <- list(
  mean_x = stat(svymean(~x, clus1, deff = TRUE)),
  total_x = stat(svytotal(~x, clus1, deff = TRUE)),
  by_province_mean_x = by_stat(svyby(~x, ~province, clus1, svymean, deff = TRUE))
)

# 3. two-stage cluster sample with fpc at both stages
clus2 <- svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, data = d)
out$cluster2 <- list(
  mean_x = stat(svymean(~x, clus2, deff = TRUE)),
  total_x = stat(svytotal(~x, clus2, deff = TRUE)),
  mean_used = stat(svymean(~used_online, clus2, deff = TRUE))
)

# 4. post-stratification on sex × urban
ps_pop <- data.frame(sex = c("female", "male", "female", "male"), urban = c("rural", "rural", "urban", "urban"),
                     Freq = unname(pop$sex_urban))
post <- postStratify(clus1, ~sex + urban, ps_pop)
out$poststratified <- list(weights = unname(weights(post)),
                           mean_x = stat(svymean(~x, post, deff = TRUE)),
                           total_x = stat(svytotal(~x, post)),
                           by_province_mean_x = by_stat(svyby(~x, ~province, post, svymean, deff = TRUE)))

# 5. raking on two margins, through calibrate() with a tight tolerance (rake() stops at 1 unit of weight)
raked <- calibrate(clus1, ~sex + age, population = c(`(Intercept)` = N, sexmale = pop$sex[["male"]],
                   `age35-54` = pop$age[["35-54"]], `age55+` = pop$age[["55+"]]),
                   calfun = "raking", epsilon = 1e-13, maxit = 200)
out$raked <- list(weights = unname(weights(raked)),
                  mean_x = stat(svymean(~x, raked, deff = TRUE)),
                  mean_used = stat(svymean(~used_online, raked)),
                  by_province_mean_used = by_stat(svyby(~used_online, ~province, raked, svymean, deff = TRUE)))

# 6. linear calibration (GREG) on sex and the total of x; then with bounds on g
greg <- calibrate(clus1, ~sex + x, population = c(`(Intercept)` = N, sexmale = pop$sex[["male"]], x = pop$x_total))
bounded <- calibrate(clus1, ~sex + x, population = c(`(Intercept)` = N, sexmale = pop$sex[["male"]], x = pop$x_total),
                     bounds = c(0.8, 1.25), epsilon = 1e-13, maxit = 200)
out$linear <- list(weights = unname(weights(greg)),
                   mean_y = stat(svymean(~y, greg, na.rm = TRUE)),
                   total_used = stat(svytotal(~used_online, greg)),
                   bounded_weights = unname(weights(bounded)),
                   bounded_total_used = stat(svytotal(~used_online, bounded)))

# 7. a stratum with a single PSU
lonely <- d
lonely$stratum2 <- as.character(lonely$stratum)
lonely$stratum2[lonely$psu == "S1P1"] <- "S0"
for (rule in c("adjust", "certainty")) {
  options(survey.lonely.psu = rule)
  des <- svydesign(ids = ~psu, strata = ~stratum2, weights = ~weight, data = lonely)
  out$lonely[[rule]] <- list(mean_x = stat(svymean(~x, des)), total_x = stat(svytotal(~x, des)))
}
options(survey.lonely.psu = "fail")

# 8. jackknife (JKn) replicate weights, plain and recalibrated by raking
jk <- as.svrepdesign(clus1, type = "JKn")
jk_raked <- calibrate(jk, ~sex + age, population = c(`(Intercept)` = N, sexmale = pop$sex[["male"]],
                      `age35-54` = pop$age[["35-54"]], `age55+` = pop$age[["55+"]]),
                      calfun = "raking", epsilon = 1e-13, maxit = 200)
out$jackknife <- list(mean_x = stat(svymean(~x, jk)), total_x = stat(svytotal(~x, jk)),
                      raked_mean_used = stat(svymean(~used_online, jk_raked)),
                      by_province_mean_x = list(estimate = unname(coef(svyby(~x, ~province, jk, svymean))),
                                                se = unname(SE(svyby(~x, ~province, jk, svymean)))))

# 9. trimming: R redistributes what is trimmed equally over the untrimmed weights
trimmed <- trimWeights(greg, upper = quantile(weights(greg), 0.9), lower = quantile(weights(greg), 0.05),
                       strict = TRUE)
out$trim <- list(upper = unname(quantile(weights(greg), 0.9)), lower = unname(quantile(weights(greg), 0.05)),
                 weights = unname(weights(trimmed)))

cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
