# Reference values for tests/analysis/test_design_checks.py: the jackknife of designs with a finite population
# correction or a stratum with a single PSU, and what R's survey package does with a missing or varying fpc.
# Run from this folder:  Rscript reference_design_checks.R > reference_design_checks.json
# Written against survey 4.1.1 (Debian's r-cran-survey) and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
stat <- function(s) list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))))
out <- list(survey_version = as.character(packageVersion("survey")))

# 1. stratified element sample with fpc (population counts per stratum), jackknife JKn:
#    jknweights() gives each replicate of stratum h the scale (1 - n_h/N_h) (n_h - 1)/n_h
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d)
jkn <- as.svrepdesign(strat, type = "JKn")
out$jkn_stratified_fpc <- list(mean_x = stat(svymean(~x, jkn)), total_x = stat(svytotal(~x, jkn)),
                               mean_y = stat(svymean(~y, jkn, na.rm = TRUE)),
                               total_y = stat(svytotal(~y, jkn, na.rm = TRUE)))

# 2. unstratified one-stage cluster sample with fpc (the population's PSUs: the sum of fpc1 over strata),
#    jackknife JK1: jk1weights() gives the scale (1 - n/N) (n - 1)/n
d$fpc_psu <- sum(tapply(d$fpc1, d$stratum, function(v) v[1]))
clus <- svydesign(ids = ~psu, weights = ~weight, fpc = ~fpc_psu, data = d)
jk1 <- as.svrepdesign(clus, type = "JK1")
out$jk1_cluster_fpc <- list(fpc_psu = d$fpc_psu[1], mean_x = stat(svymean(~x, jk1)),
                            total_x = stat(svytotal(~x, jk1)))

# 3. a stratum with a single PSU (S1P1 moved to a stratum S0 of its own), jackknife JKn under each rule;
#    "adjust": one replicate drops the lonely PSU and multiplies every other PSU by H/(H - 1), scale (H - 1)/H
lonely <- d
lonely$stratum2 <- as.character(lonely$stratum)
lonely$stratum2[lonely$psu == "S1P1"] <- "S0"
for (rule in c("adjust", "certainty")) {
  options(survey.lonely.psu = rule)
  plain <- as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum2, weights = ~weight, data = lonely), type = "JKn")
  with_fpc <- as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum2, weights = ~weight, fpc = ~fpc1, data = lonely),
                             type = "JKn")
  out$jkn_lonely[[rule]] <- list(mean_x = stat(svymean(~x, plain)), total_x = stat(svytotal(~x, plain)),
                                 fpc_mean_x = stat(svymean(~x, with_fpc)), fpc_total_x = stat(svytotal(~x, with_fpc)))
}
options(survey.lonely.psu = "fail")

# 4. what svydesign() does with a missing fpc (an error) and with an fpc that varies within a stratum (a warning)
missing_fpc <- d
missing_fpc$fpc_elements[5] <- NA
varying_fpc <- d
varying_fpc$fpc_elements[5] <- varying_fpc$fpc_elements[5] + 1
condition <- function(expr) tryCatch({expr; "none"}, warning = function(w) paste("warning:", conditionMessage(w)),
                                     error = function(e) paste("error:", conditionMessage(e)))
out$fpc_checks <- list(
  missing = condition(svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements,
                                data = missing_fpc)),
  varies = condition(svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements,
                               data = varying_fpc))
)

cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
