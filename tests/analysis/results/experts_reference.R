# Reference values for tests/analysis/test_experts.py: the agreement of expert panels, computed with R.
# Run from this folder:  Rscript experts_reference.R > experts_reference.json
# Debian ships neither irr nor DescTools here, so the references come from base R and psych (r-cran-psych):
# - Kendall's W corrected for ties is Friedman's tie-corrected statistic over m (n - 1), with raters as
#   blocks and items as groups (Siegel and Castellan 1988, 262-263); its chi-square and p-value are Friedman's;
# - ICC(2,k) is psych::ICC's "ICC2k" (two-way random, absolute agreement, mean of k raters).
# The panels are generated here from a fixed seed and written out with the values, so the test reads both.
suppressMessages({library(psych); library(jsonlite)})
set.seed(5066)
panel <- function(items, raters, spread) {
  truth <- sample(1:10, items, replace = TRUE)
  # scores on a 1-10 scale, rounded, so that ties occur within every rater's column
  sapply(seq_len(raters), function(r) pmin(pmax(round(truth + rnorm(items, 0, spread)), 1), 10))
}
cases <- list(agreeing = panel(12, 18, 1), noisy = panel(9, 15, 3.5), small = panel(5, 20, 2))
out <- list(r_version = R.version.string, psych_version = as.character(packageVersion("psych")), cases = list())
for (name in names(cases)) {
  m <- cases[[name]]
  f <- friedman.test(t(m))
  n <- nrow(m); k <- ncol(m)
  icc <- suppressWarnings(ICC(m, lmer = FALSE))$results
  out$cases[[name]] <- list(ratings = m, kendall_w = unname(f$statistic) / (k * (n - 1)),
                            chi_square = unname(f$statistic), df = unname(f$parameter), p_value = f$p.value,
                            icc = icc$ICC[icc$type == "ICC2k"])
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
