# Reference values for tests/analysis/test_audit.py: the data checks and structure of an index audit, computed
# with R. Run from this folder:  Rscript reference_audit.R > reference_audit.json
# - skewness and kurtosis: e1071's type 2 (sample-adjusted; the kurtosis an excess kurtosis), which COINr's
#   skew() and kurt() reproduce; quartiles: R's default type 7;
# - correlations: cor(), Pearson and Spearman; Cronbach's alpha: psych::alpha()'s raw_alpha;
# - principal components: prcomp(scale. = TRUE), each component's sign set so its loadings sum to a positive number.
# The data are generated here from a fixed seed and written out with the values, so the test reads both.
suppressMessages({library(psych); library(e1071); library(jsonlite)})
set.seed(2008)
units <- sprintf("u%02d", 1:15)
level <- runif(15)
around <- function(spread) pmin(pmax(level + rnorm(15, 0, spread), 0), 1)
values <- data.frame(A1 = around(0.15), A2 = around(0.2), A3 = around(0.3),
                     # one unit far ahead of the others: a skewed, heavy-tailed criterion
                     A4 = c(round(runif(14, 0, 0.1), 3), 0.95),
                     B1 = around(0.1), B2 = around(0.25), B3 = 1 - around(0.2))
values <- round(values, 3)
maximum <- c(A1 = 15, A2 = 15, A3 = 15, A4 = 15, B1 = 10, B2 = 10, B3 = 20)
missing <- list(c(3, "A2"), c(9, "B2"))
reported <- values
for (cell in missing) reported[as.integer(cell[1]), cell[2]] <- NA
points <- sweep(reported, 2, maximum, "*")

checks <- lapply(names(values), function(code) {
  x <- reported[[code]][!is.na(reported[[code]])]
  q <- quantile(x, c(0.25, 0.5, 0.75), type = 7)
  fence <- 1.5 * (q[3] - q[1])
  list(node = code, with_data = length(x), mean = mean(x), sd = sd(x), q1 = q[[1]], median = q[[2]], q3 = q[[3]],
       skewness = skewness(x, type = 2), kurtosis = kurtosis(x, type = 2),
       outliers_iqr = sum(x < q[1] - fence | x > q[3] + fence), outliers_z = sum(abs(scale(x)) > 3))
})

entering <- values
for (cell in missing) entering[as.integer(cell[1]), cell[2]] <- 0
mains <- list(A = c("A1", "A2", "A3", "A4"), B = c("B1", "B2", "B3"))
index <- as.matrix(entering) %*% maximum / 100
main_value <- sapply(mains, function(codes) as.matrix(entering[codes]) %*% maximum[codes] / sum(maximum[codes]))

structure <- lapply(names(mains), function(main) {
  x <- entering[mains[[main]]]
  pca <- prcomp(x, scale. = TRUE)
  rotation <- pca$rotation
  rotation <- sweep(rotation, 2, ifelse(colSums(rotation) < 0, -1, 1), "*")
  # psych prints its advice to reverse negatively correlated items; the test wants the raw alpha as it is
  invisible(capture.output(found <- suppressWarnings(suppressMessages(alpha(x, check.keys = FALSE)))))
  list(main_index = main, pearson = unname(cor(x)), spearman = unname(cor(x, method = "spearman")),
       alpha = found$total$raw_alpha,
       eigenvalues = pca$sdev^2, loadings = unname(rotation),
       with_index = list(pearson = cor(main_value[, main], index[, 1]),
                      spearman = cor(main_value[, main], index[, 1], method = "spearman")))
})

out <- list(r_version = R.version.string, psych_version = as.character(packageVersion("psych")),
            e1071_version = as.character(packageVersion("e1071")), units = units, maximum = as.list(maximum),
            values = values, missing = lapply(missing, function(cell) list(unit = units[as.integer(cell[1])],
                                                                           node = cell[2])),
            index = index[, 1], checks = checks, structure = structure)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
