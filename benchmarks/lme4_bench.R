# Times lme4 on one model, inside R: the child process of benchmarks/run.py.
# usage: Rscript lme4_bench.R DATA.csv FORMULA FAMILY NAGQ REML REPS CATCOLS
#   FAMILY: gaussian | binomial | poisson;  NAGQ: 1, 9 or 0 (0 = lme4's fast fit);  REML: TRUE/FALSE
#   CATCOLS: comma-separated columns to read as factors (levels in code-point order, as mixednb)
# prints one JSON line: {"times": [...], "objective": ...}
suppressPackageStartupMessages(library(lme4))
a <- commandArgs(trailingOnly = TRUE)
path <- a[1]; form <- as.formula(a[2]); fam <- a[3]; nagq <- as.integer(a[4])
reml <- as.logical(a[5]); reps <- as.integer(a[6])
cats <- if (length(a) >= 7 && nzchar(a[7])) strsplit(a[7], ",")[[1]] else character(0)
d <- read.csv(path, stringsAsFactors = FALSE)
for (v in cats) d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))
one <- function() {
  if (fam == "gaussian") lmer(form, d, REML = reml)
  else glmer(form, d, family = fam, nAGQ = nagq)
}
m <- one()                                   # warm-up, excluded
times <- numeric(reps)
for (i in seq_len(reps)) { gc(); times[i] <- system.time(m <- one())[["elapsed"]] }
obj <- if (fam == "gaussian") {
  if (reml) getME(m, "devcomp")$cmp[["REML"]] else -2 * as.numeric(logLik(m))
} else -2 * as.numeric(logLik(m))
cat(sprintf('{"times": [%s], "objective": %.10f}\n', paste(sprintf("%.6f", times), collapse = ", "), obj))
