# Reference values for tests/analysis/test_distribution.py: quantiles with Woodruff's intervals (svyquantile,
# overall and by domain through svyby) and population variances (svyvar), computed with R's survey package.
# Run from this folder:  cd tests/analysis/results && Rscript reference_distribution.R > reference_distribution.json
# Written against survey 4.1.1 and jsonlite; the version is recorded in the output.
suppressMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "fail", digits = 15)

d <- read.csv("survey_sample.csv", stringsAsFactors = TRUE)
d$fpc_elements <- ave(d$weight, d$stratum, FUN = sum)
d$x_round <- round(d$x)  # many ties: the rules differ most there
N <- round(sum(d$weight))
pop <- list(N = N, sex = c(female = round(0.52 * N), male = N - round(0.52 * N)),
            age = c(`18-34` = round(0.38 * N), `35-54` = round(0.36 * N), `55+` = N - round(0.38 * N) - round(0.36 * N)))

designs <- list(
  stratified = svydesign(ids = ~1, strata = ~stratum, weights = ~weight, fpc = ~fpc_elements, data = d),
  cluster1 = svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d),
  cluster2 = svydesign(ids = ~psu + ssu, strata = ~stratum, weights = ~weight, fpc = ~fpc1 + fpc2, data = d)
)
# raking on two margins through calibrate() with a tight tolerance, as in reference.R
designs$raked <- calibrate(designs$cluster1, ~sex + age,
                           population = c(`(Intercept)` = N, sexmale = pop$sex[["male"]],
                                          `age35-54` = pop$age[["35-54"]], `age55+` = pop$age[["55+"]]),
                           calfun = "raking", epsilon = 1e-13, maxit = 200)

# one case: the call's arguments, then R's numbers in domain-major, probability-minor order
quantile_case <- function(design, column, probabilities, by = NULL, rule = "math", interval = "mean", level = 0.95) {
  des <- designs[[design]]
  f <- as.formula(paste0("~", column))
  args <- list(quantiles = probabilities, ci = TRUE, alpha = 1 - level, interval.type = interval, qrule = rule,
               na.rm = TRUE)
  m <- length(probabilities)
  if (is.null(by)) {
    q <- do.call(svyquantile, c(list(f, des), args))[[column]]
    values <- list(domain = column, estimate = q[, 1], low = q[, 2], high = q[, 3], se = q[, 4])
  } else {
    b <- do.call(svyby, c(list(f, as.formula(paste0("~", by)), des, svyquantile, vartype = c("se", "ci")), args))
    block <- function(first) as.vector(t(as.matrix(b[, first + seq_len(m)])))  # rows are domains
    values <- list(domain = as.character(b[[1]]), estimate = block(1), se = block(1 + m),
                   low = block(1 + 2 * m), high = block(1 + 3 * m))
  }
  Filter(Negate(is.null), c(list(design = design, column = column, probabilities = probabilities, by = by,
                                 rule = rule, interval = interval, level = level),
                            lapply(values, function(v) unname(as.vector(v)))))
}

variance_case <- function(design, columns, by = NULL) {
  des <- designs[[design]]
  f <- as.formula(paste0("~", paste(columns, collapse = "+")))
  if (is.null(by)) {
    v <- svyvar(f, des, na.rm = TRUE)
    estimate <- as.vector(as.matrix(v))
    se <- sqrt(diag(as.matrix(vcov(v))))
    # confint() of a single variance is Wald on the normal quantile; it has no method for a matrix, so the same by hand
    values <- list(estimate = estimate, se = se, low = estimate - qnorm(0.975) * se,
                   high = estimate + qnorm(0.975) * se)
  } else {
    b <- svyby(f, as.formula(paste0("~", by)), des, svyvar, na.rm = TRUE)
    ci <- confint(b)
    values <- list(domain = as.character(b[[1]]), estimate = coef(b), se = SE(b), low = ci[, 1], high = ci[, 2])
  }
  Filter(Negate(is.null), c(list(design = design, columns = I(columns), by = by),
                            lapply(values, function(v) unname(as.vector(v)))))
}

probs <- c(0.1, 0.25, 0.5, 0.75, 0.9)
quartiles <- c(0.25, 0.5, 0.75)
rules <- c("math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9")
q <- list()
for (des in names(designs)) {
  q[[paste0(des, "_x_math")]] <- quantile_case(des, "x", probs)
  q[[paste0(des, "_y_hf7")]] <- quantile_case(des, "y", probs, rule = "hf7")
  q[[paste0(des, "_x_by_province_math")]] <- quantile_case(des, "x", quartiles, by = "province")
  q[[paste0(des, "_y_by_province_hf7")]] <- quantile_case(des, "y", quartiles, by = "province", rule = "hf7")
}
for (rule in rules) {
  q[[paste0("stratified_x_round_", rule)]] <- quantile_case("stratified", "x_round", probs, rule = rule)
  q[[paste0("cluster1_y_by_province_", rule)]] <- quantile_case("cluster1", "y", quartiles, by = "province",
                                                               rule = rule)
}
for (interval in c("beta", "xlogit", "asin")) {
  q[[paste0("cluster1_x_", interval)]] <- quantile_case("cluster1", "x", probs, interval = interval)
  q[[paste0("cluster2_y_by_province_", interval)]] <- quantile_case("cluster2", "y", quartiles, by = "province",
                                                                   interval = interval)
  q[[paste0("raked_x_by_province_", interval)]] <- quantile_case("raked", "x", quartiles, by = "province",
                                                                interval = interval)
}
q$cluster2_x_math_90 <- quantile_case("cluster2", "x", quartiles, level = 0.9)
q$cluster1_x_hf7_90 <- quantile_case("cluster1", "x", quartiles, rule = "hf7", level = 0.9)
q$stratified_x_ends_math <- quantile_case("stratified", "x", c(0, 0.5, 1))
q$stratified_x_ends_hf7 <- quantile_case("stratified", "x", c(0, 0.5, 1), rule = "hf7")

v <- list()
for (des in names(designs)) {
  v[[paste0(des, "_x")]] <- variance_case(des, "x")
  v[[paste0(des, "_y")]] <- variance_case(des, "y")
  v[[paste0(des, "_x_by_province")]] <- variance_case(des, "x", by = "province")
  v[[paste0(des, "_y_by_province")]] <- variance_case(des, "y", by = "province")
  v[[paste0(des, "_x_y")]] <- variance_case(des, c("x", "y"))
}

out <- list(survey_version = as.character(packageVersion("survey")),
            population = lapply(pop, function(p) if (length(p) > 1) as.list(p) else p),
            raked_weights = unname(weights(designs$raked)), quantiles = q, variances = v)
cat(toJSON(out, digits = 15, auto_unbox = TRUE, pretty = TRUE, na = "null"))
