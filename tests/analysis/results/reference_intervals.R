# Reference values for tests/analysis/test_intervals.py: degrees of freedom of designs, t intervals and
# svyciprop's intervals for proportions, computed with R's survey package.
# Run from this folder:  cd tests/analysis/results && Rscript reference_intervals.R > reference_intervals.json
# Written against survey 4.1.1 and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
d$satisfied_1 <- as.numeric(d$satisfaction == 1)  # a rare category: 9 of 208 respondents

strat <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d)
clus1 <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
clus2 <- svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, data = d)
jk <- as.svrepdesign(clus1, type = "JKn")

t_interval <- function(s, design, level = 0.95) {
  ci <- confint(s, df = degf(design), level = level)
  list(estimate = unname(as.vector(coef(s))), se = unname(as.vector(SE(s))),
       low = unname(ci[, 1]), high = unname(ci[, 2]), level = level)
}
ciprop <- function(formula, design, method, level = 0.95) {
  p <- svyciprop(formula, design, method = method, level = level)
  ci <- attr(p, "ci")
  list(estimate = unname(as.vector(coef(p))), se = unname(as.vector(SE(p))),
       low = unname(ci[1]), high = unname(ci[2]), level = level)
}
methods <- c("logit", "likelihood", "beta", "xlogit")
# svyby(..., svyciprop) runs svyciprop on every domain's subset (its rows only, so its own degf and nrow), but
# confint() of the svyby result is a plain Wald interval: call svyciprop on each subset instead
by_ciprop <- function(formula, by, design, method) {
  domains <- sort(unique(as.character(design$variables[[by]])))
  rows <- lapply(domains, function(v) ciprop(formula, design[as.character(design$variables[[by]]) == v, ], method))
  list(domain = domains, degf = sapply(domains, function(v)
         degf(design[as.character(design$variables[[by]]) == v, ]), USE.NAMES = FALSE),
       estimate = sapply(rows, `[[`, "estimate"), se = sapply(rows, `[[`, "se"),
       low = sapply(rows, `[[`, "low"), high = sapply(rows, `[[`, "high"))
}

out <- list(survey_version = as.character(packageVersion("survey")))
out$degf <- list(stratified = degf(strat), cluster1 = degf(clus1), cluster2 = degf(clus2), jackknife = degf(jk))
out$t <- list(
  cluster1_mean_x = t_interval(svymean(~x, clus1), clus1),
  cluster1_total_x = t_interval(svytotal(~x, clus1), clus1),
  cluster1_mean_x_90 = t_interval(svymean(~x, clus1), clus1, level = 0.9),
  stratified_mean_y = t_interval(svymean(~y, strat, na.rm = TRUE), strat),
  stratified_ratio_y_x = t_interval(svyratio(~y, ~x, subset(strat, !is.na(y))), strat),
  cluster2_mean_used = t_interval(svymean(~used_online, clus2), clus2)
)
out$ciprop <- list()
for (m in methods) {
  out$ciprop[[m]] <- list(
    cluster1_used = ciprop(~I(used_online == 1), clus1, m),
    cluster1_rare = ciprop(~I(satisfied_1 == 1), clus1, m),
    stratified_used = ciprop(~I(used_online == 1), strat, m),
    stratified_rare_90 = ciprop(~I(satisfied_1 == 1), strat, m, level = 0.9),
    cluster1_by_province_used = by_ciprop(~I(used_online == 1), "province", clus1, m)
  )
}
cat(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE))
