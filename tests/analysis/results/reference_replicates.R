# Reference values for tests/analysis/test_replicates.py: replicate-weight designs made by as.svrepdesign (JKn, JK1,
# BRR, Fay, bootstrap, subbootstrap) and by svrepdesign from given replicate weights, their estimates (mean, total,
# ratio, shares of a factor; overall and by domain) with design effects and t intervals on degf, R's Hadamard
# matrices, and R's own replicate factors (BRR, Fay, bootstrap draws) so that the tests can rebuild R's designs.
# Run from this folder:  cd tests/analysis/results && Rscript reference_replicates.R > reference_replicates.json
# Written against survey 4.1.1 and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$fpc_psu <- 60  # for the unstratified design: a population of 60 PSUs
d$psu_number <- as.integer(sub(".*P", "", as.character(d$psu)))
d$stratum_number <- as.integer(sub("S", "", as.character(d$stratum)))

# BRR needs 2 PSUs per stratum. brr6: the first 2 PSUs of every stratum, rows in reverse order (so that a stratum's
# second PSU comes first in the data and the strata come last to first). brr8: pairs of consecutive PSUs as
# pseudo-strata numbered stratum + 6 (pair - 1), PSUs left without a pair dropped: 8 pseudo-strata whose numbers
# sort differently as text (R's brrweights sorts as.character(strata)).
brr6_data <- d[rev(seq_len(nrow(d))), ]
brr6_data <- brr6_data[brr6_data$psu_number <= 2, ]
d$pair <- ceiling(d$psu_number / 2)
d$pseudo <- d$stratum_number + 6L * (d$pair - 1L)
paired <- ave(d$psu_number, d$pseudo, FUN = function(v) length(unique(v))) == 2
brr8_data <- d[paired, ]

clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
clus_fpc <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, fpc = ~fpc1, data = d)
unstrat <- svydesign(ids = ~psu, weights = ~weight, fpc = ~fpc_psu, data = d)
brr6_design <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = brr6_data)
brr8_design <- svydesign(ids = ~psu, strata = ~pseudo, weights = ~weight, data = brr8_data)

reps <- list()
reps$jkn <- as.svrepdesign(clus1, type = "JKn")
reps$jkn_mse <- as.svrepdesign(clus1, type = "JKn", mse = TRUE)
reps$jk1 <- as.svrepdesign(unstrat, type = "JK1")
reps$brr6 <- as.svrepdesign(brr6_design, type = "BRR")
reps$brr8 <- as.svrepdesign(brr8_design, type = "BRR")
reps$fay8 <- as.svrepdesign(brr8_design, type = "Fay", fay.rho = 0.3)
reps$brr8_mse <- as.svrepdesign(brr8_design, type = "BRR", mse = TRUE)
set.seed(20261130)
reps$boot <- as.svrepdesign(clus1, type = "bootstrap", replicates = 50)
reps$boot_fpc <- as.svrepdesign(clus_fpc, type = "bootstrap", replicates = 40)
reps$subboot <- as.svrepdesign(clus1, type = "subbootstrap", replicates = 30)
# the intercept-only calibration of BRR's replicates to the full sample's total weight (the full weights stay)
reps$brr8_calibrated <- calibrate(reps$brr8, ~1, population = c(`(Intercept)` = sum(brr8_data$weight)))

# designs from given replicate weights (R's weights of the designs above, as combined weights)
given <- function(rep, data, ...) {
  svrepdesign(data = data, repweights = weights(rep, "analysis"), weights = ~weight, combined.weights = TRUE, ...)
}
suppressWarnings({
  reps$given_other <- given(reps$jkn, d, type = "other")
  reps$given_other_scaled <- given(reps$jkn, d, type = "other", scale = 0.5,
                                   rscales = rep(c(1, 0.5), length.out = ncol(weights(reps$jkn, "analysis"))))
  reps$given_jkn <- given(reps$jkn, d, type = "JKn", rscales = reps$jkn$rscales)
  reps$given_jkn_mse <- given(reps$jkn, d, type = "JKn", rscales = reps$jkn$rscales, mse = TRUE)
  reps$given_jk1 <- given(reps$jk1, d, type = "JK1")
  reps$given_brr <- given(reps$brr8, brr8_data, type = "BRR")
  reps$given_fay <- given(reps$fay8, brr8_data, type = "Fay", rho = 0.3)
  reps$given_boot <- given(reps$boot, d, type = "bootstrap")
  reps$given_boot_scaled <- given(reps$boot, d, type = "bootstrap", scale = reps$boot$scale)
  reps$given_subboot <- given(reps$subboot, d, type = "bootstrap", scale = reps$subboot$scale)
})

interval <- function(s, design, level) {
  ci <- confint(s, df = degf(design), level = level)
  list(low = unname(as.vector(ci[, 1])), high = unname(as.vector(ci[, 2])))
}
vec <- function(v) unname(as.vector(as.matrix(v)))
stat <- function(s, design, level = 0.95) {
  has_deff <- inherits(s, "svyby") && !is.null(attr(s, "svyby")$deffs) && !isFALSE(attr(s, "svyby")$deffs) ||
    !is.null(attr(s, "deff"))
  c(list(estimate = vec(coef(s)), se = vec(SE(s)), deff = if (has_deff) vec(deff(s)) else NULL),
    interval(s, design, level))
}
# R's svyratio(deff = TRUE) fails on replicate designs in survey 4.1.1 ("Error in rval[i, j] : incorrect number of
# dimensions"); its code means the design effect of svytotal(numerator - ratio * denominator), computed here so
ratio_deff <- function(design, ratio) {
  ok <- !is.na(design$variables$y) & !is.na(design$variables$x)
  sub <- design[ok, ]
  vec(deff(svytotal(sub$variables$y - ratio * sub$variables$x, sub, deff = TRUE)))
}
estimates <- function(rep) {
  domains <- sort(unique(as.character(rep$variables$province)))
  ratio <- svyratio(~y, ~x, rep, na.rm = TRUE)
  ratio_by <- svyby(~y, ~province, rep, svyratio, denominator = ~x, na.rm = TRUE)
  share_by <- svyby(~factor(age), ~province, rep, svymean, deff = TRUE)
  ages <- levels(factor(rep$variables$age))
  list(
    degf = degf(rep),
    mean_x = stat(svymean(~x, rep, deff = TRUE), rep),
    mean_x_90 = stat(svymean(~x, rep, deff = TRUE), rep, level = 0.9),
    mean_y = stat(svymean(~y, rep, na.rm = TRUE, deff = TRUE), rep),
    total_x = stat(svytotal(~x, rep, deff = TRUE), rep),
    total_y = stat(svytotal(~y, rep, na.rm = TRUE, deff = TRUE), rep),
    ratio_y_x = modifyList(stat(ratio, rep), list(deff = ratio_deff(rep, coef(ratio)))),
    share_satisfaction = c(stat(svymean(~factor(satisfaction), rep, deff = TRUE), rep),
                           list(level = levels(factor(rep$variables$satisfaction)))),
    by_province_mean_x = c(stat(svyby(~x, ~province, rep, svymean, deff = TRUE), rep), list(domain = domains)),
    by_province_total_y = c(stat(svyby(~y, ~province, rep, svytotal, na.rm = TRUE, deff = TRUE), rep),
                            list(domain = domains)),
    by_province_ratio_y_x = modifyList(stat(ratio_by, rep), list(domain = domains, deff = sapply(seq_along(domains),
      function(i) ratio_deff(rep[as.character(rep$variables$province) == domains[i], ], coef(ratio_by)[i])))),
    by_province_share_age = c(stat(share_by, rep), list(domain = rep(domains, times = length(ages)),
                                                        level = rep(ages, each = length(domains))))
  )
}
# R's replicate factors per PSU (the compressed replicate weights), PSUs in the order of R's rows
factors <- function(rep) {
  labels <- character(nrow(rep$repweights$weights))
  labels[rep$repweights$index] <- as.character(rep$variables$psu)
  list(psu = labels, factors = unname(rep$repweights$weights), scale = rep$scale, rscales = rep$rscales)
}

out <- list(survey_version = as.character(packageVersion("survey")))
out$hadamard <- lapply(c(1:23, 28:31, 36:47, 56:67, 100), function(n)
  list(n = n, rows = apply(hadamard(n), 1, paste, collapse = "")))
out$factors <- lapply(reps[c("jkn", "jk1", "brr6", "brr8", "fay8", "boot", "boot_fpc", "subboot")], factors)
out$scales <- lapply(reps, function(rep) list(type = rep$type, scale = rep$scale, rscales = rep$rscales, mse = rep$mse))
out$estimates <- lapply(reps, estimates)
cat(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE, na = "null"))
