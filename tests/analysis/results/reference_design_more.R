# Reference values for tests/analysis/test_design_more.py: several variables and several domain columns in one call,
# covariances (vcov) and contrasts (svycontrast), deff = "replace", and svychisq's tests of two-way tables,
# computed with R's survey package.
# Run from this folder:  cd tests/analysis/results && Rscript reference_design_more.R > reference_design_more.json
# Written against survey 4.1.1 and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$satisfaction <- factor(d$satisfaction)
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
N <- round(sum(d$weight))

strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d)
clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
clus2 <- svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, data = d)
# raking on sex and age, as in reference.R
raked <- calibrate(clus1, ~sex + age, population = c(`(Intercept)` = N, sexmale = N - round(0.52 * N),
                   `age35-54` = round(0.36 * N), `age55+` = N - round(0.38 * N) - round(0.36 * N)),
                   calfun = "raking", epsilon = 1e-13, maxit = 200)
designs <- list(stratified = strat, cluster1 = clus1, cluster2 = clus2, raked = raked)

# a svystat (svymean, svytotal): names, estimates, SEs, design effects and the covariance
stat <- function(s) {
  out <- list(names = names(coef(s)), estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))),
              vcov = unname(as.matrix(vcov(s))))
  df <- attr(s, "deff")
  if (!is.null(df)) out$deff <- unname(as.vector(if (is.matrix(df)) diag(df) else df))
  out
}
# a svyby: the domain columns of every estimate (R's order: variables slowest, then the by columns with the
# first fastest), estimates, SEs, design effects and the covariance (covmat = TRUE)
by_stat <- function(b, variables, vcov = TRUE) {
  nby <- length(attr(b, "svyby")$margins)
  keys <- as.data.frame(lapply(b[seq_len(nby)], as.character))
  each <- nrow(keys)
  out <- list(variable = rep(variables, each = each), estimate = unname(as.vector(coef(b))),
              se = unname(as.vector(as.matrix(SE(b)))))
  if (vcov) out$vcov <- unname(as.matrix(vcov(b)))
  for (name in names(keys)) out[[name]] <- rep(keys[[name]], times = length(variables))
  df <- tryCatch(deff(b), error = function(e) NULL)
  if (!is.null(df)) out$deff <- unname(as.vector(as.matrix(df)))
  out
}
ratio_stat <- function(r) {
  out <- list(names = names(coef(r)), estimate = unname(as.vector(coef(r))), se = unname(as.vector(SE(r))))
  if (!is.null(r$vcov)) out$vcov <- unname(r$vcov)
  if (!is.null(attr(r, "deff"))) out$deff <- unname(as.vector(attr(r, "deff")))
  out
}
contrast_stat <- function(s) list(names = names(coef(s)), estimate = unname(as.vector(coef(s))),
                                  se = unname(as.vector(SE(s))), vcov = unname(as.matrix(vcov(s))))
# the Wald tests fail when the covariance is singular (more cells than the PSUs tell apart): recorded as {}
chisq <- function(formula, design, statistic) {
  test <- tryCatch(svychisq(formula, design, statistic = statistic), error = function(e) NULL)
  if (is.null(test)) return(NULL)
  list(statistic = unname(as.vector(test$statistic)), parameter = unname(as.vector(test$parameter)),
       p_value = unname(as.vector(test$p.value)))
}

out <- list(survey_version = as.character(packageVersion("survey")))

# 1. several variables in one call, with their covariance
out$several <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  out$several[[name]] <- list(
    mean_x_y = stat(svymean(~x + y, des, na.rm = TRUE, deff = TRUE)),
    total_x_used = stat(svytotal(~x + used_online, des, deff = TRUE)),
    mean_satisfaction_x = stat(svymean(~satisfaction + x, des, deff = TRUE)),
    total_sex = stat(svytotal(~sex, des, deff = TRUE)),
    ratio_y_used_over_x_weight = ratio_stat(svyratio(~y + used_online, ~x + weight, des, na.rm = TRUE,
                                                     covmat = TRUE, deff = TRUE))
  )
}

# 2. domains of several columns, and several variables by domain, with covariances across domains. svyby(covmat =
# TRUE) fails on a calibrated design in survey 4.1.1 (influence of the wrong length), and with na.rm = TRUE: there
# the covariance is svyrecvar() of the domains' influence values, as svyby would compute it, and missing values are
# dropped by subset()
influence_vcov <- function(des, byvars, variables, kind, denominator = NULL) {
  w <- weights(des)
  domain <- interaction(des$variables[byvars], drop = TRUE)  # svyby's order: the first column fastest
  columns <- list()
  for (v in variables) for (level in levels(domain)) {
    y <- des$variables[[v]]
    x <- if (is.null(denominator)) rep(1, length(y)) else des$variables[[denominator]]
    inside <- w * (domain == level) * !is.na(y) * !is.na(x)
    y[is.na(y)] <- 0
    x[is.na(x)] <- 0
    columns[[length(columns) + 1]] <- switch(kind,
      total = inside * y,
      mean = inside * (y - sum(inside * y) / sum(inside)) / sum(inside),
      ratio = inside * (y - sum(inside * y) / sum(inside * x) * x) / sum(inside * x))
  }
  survey:::svyrecvar(do.call(cbind, columns), des$cluster, des$strata, des$fpc, postStrata = des$postStrata)
}
by_call <- function(formula, byformula, des, FUN, calibrated, ...) {
  if (calibrated) svyby(formula, byformula, des, FUN, ...) else svyby(formula, byformula, des, FUN, covmat = TRUE, ...)
}
out$by <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  calibrated <- name == "raked"
  cases <- list(
    mean_x_by_province_urban = list(by_call(~x, ~province + urban, des, svymean, calibrated, deff = TRUE),
                                    c("province", "urban"), "x", "mean", NULL),
    mean_x_used_by_province = list(by_call(~x + used_online, ~province, des, svymean, calibrated, deff = TRUE),
                                   "province", c("x", "used_online"), "mean", NULL),
    total_used_by_sex_urban = list(by_call(~used_online, ~sex + urban, des, svytotal, calibrated, deff = TRUE),
                                   c("sex", "urban"), "used_online", "total", NULL),
    ratio_y_x_by_province = list(if (calibrated) svyby(~y, ~province, des, svyratio, denominator = ~x, na.rm = TRUE)
                                 else by_call(~y, ~province, subset(des, !is.na(y)), svyratio, FALSE, denominator = ~x),
                                 "province", "y", "ratio", "x")
  )
  out$by[[name]] <- lapply(cases, function(case) {
    labels <- if (is.null(case[[5]])) case[[3]] else paste0(case[[3]], "/", case[[5]])
    result <- by_stat(case[[1]], labels, vcov = !calibrated)
    # the covariance from the influence values, on every design: svyby's where it has one, to check the two agree
    result$vcov_influence <- unname(influence_vcov(des, case[[2]], case[[3]], case[[4]], case[[5]]))
    result
  })
}

# 3. contrasts: provinces against each other, variables combined, nonlinear
out$contrasts <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  if (name == "raked") next  # svyby(covmat = TRUE) fails on a calibrated design (above)
  byp <- svyby(~x, ~province, des, svymean, covmat = TRUE)
  two <- svymean(~x + y, des, na.rm = TRUE)
  out$contrasts[[name]] <- list(
    p01_minus_p02 = contrast_stat(svycontrast(byp, c(P01 = 1, P02 = -1))),
    several = contrast_stat(svycontrast(byp, list(first_last = c(P01 = 1, P05 = -1),
                                                  average = c(P01 = 0.2, P02 = 0.2, P03 = 0.2, P04 = 0.2,
                                                              P05 = 0.2)))),
    x_minus_y = contrast_stat(svycontrast(two, c(x = 1, y = -1))),
    x_over_y = contrast_stat(svycontrast(two, quote(x / y))),
    log_ratio_p01_p02 = contrast_stat(svycontrast(byp, quote(log(P01 / P02))))
  )
}

# 4. design effects against sampling with replacement
out$replace <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  out$replace[[name]] <- list(
    mean_x = stat(svymean(~x, des, deff = "replace")),
    total_y = stat(svytotal(~y, des, na.rm = TRUE, deff = "replace")),
    mean_satisfaction = stat(svymean(~satisfaction, des, deff = "replace")),
    ratio_y_x = ratio_stat(svyratio(~y, ~x, des, na.rm = TRUE, deff = "replace")),
    mean_x_by_province = by_stat(svyby(~x, ~province, des, svymean, deff = "replace"), "x", vcov = FALSE)
  )
}

# 5. tests of independence in two-way tables
out$chisq <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  out$chisq[[name]] <- list()
  for (pair in list(c("sex", "urban"), c("satisfaction", "province"), c("age", "used_online"))) {
    formula <- as.formula(paste("~", pair[1], "+", pair[2]))
    key <- paste(pair, collapse = "_")
    table <- svytable(formula, des)
    out$chisq[[name]][[key]] <- list(
      counts = unname(as.vector(table)),
      F = chisq(formula, des, "F"), Chisq = chisq(formula, des, "Chisq"),
      Wald = chisq(formula, des, "Wald"), adjWald = chisq(formula, des, "adjWald")
    )
  }
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, matrix = "rowmajor"))
