# Times lme4's inference and prediction on one model, inside R: the child process of benchmarks/inference.py.
# usage: Rscript lme4_inference.R DATA.csv FORMULA CATCOLS NBOOT NSIM REPS BOOTREPS [NEWDATA.csv]
#   CATCOLS: comma-separated columns to read as factors (levels in code-point order, as mixednb sorts them)
#   NBOOT: bootMer replicates (use.u = FALSE: new random effects each replicate, as mixednb simulates)
#   NSIM: responses drawn by one simulate() call;  REPS: timed repeats of simulate() and predict()
#   BOOTREPS: timed runs of bootMer (NBOOT replicates each)
#   NEWDATA.csv: rows for predict(m, newdata, allow.new.levels = TRUE), if given
# Prints one JSON line: {"fit_s": ..., "bootMer_s": [...], "nboot": ..., "simulate_s": [...], "predict_s": [...]}
suppressPackageStartupMessages(library(lme4))
a <- commandArgs(trailingOnly = TRUE)
cats <- if (nzchar(a[3])) strsplit(a[3], ",")[[1]] else character(0)
readd <- function(p) {
  d <- read.csv(p, stringsAsFactors = FALSE)
  for (v in intersect(cats, names(d))) d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))
  d
}
d <- readd(a[1]); form <- as.formula(a[2])
nboot <- as.integer(a[4]); nsim <- as.integer(a[5]); reps <- as.integer(a[6]); boot_reps <- as.integer(a[7])
fit_s <- system.time(m <- lmer(form, d, REML = FALSE))[["elapsed"]]
pars <- function(f) c(getME(f, "theta"), sigma(f), fixef(f))
if (nboot > 0) invisible(bootMer(m, pars, nsim = 5, seed = 1, use.u = FALSE))      # warm-up
boot_s <- if (nboot > 0) vapply(seq_len(boot_reps), function(i)
  system.time(bootMer(m, pars, nsim = nboot, seed = 1 + i, use.u = FALSE))[["elapsed"]], 0) else numeric(0)
sim_s <- vapply(seq_len(reps), function(i) system.time(simulate(m, nsim, seed = i))[["elapsed"]], 0)
pred_s <- numeric(0)
if (length(a) >= 8) {
  nd <- readd(a[8])
  for (v in cats) if (v %in% names(nd)) nd[[v]] <- factor(as.character(nd[[v]]), levels = union(levels(d[[v]]), unique(nd[[v]])))
  pred_s <- vapply(seq_len(reps), function(i) system.time(predict(m, nd, allow.new.levels = TRUE))[["elapsed"]], 0)
}
cat(sprintf('{"fit_s": %.6f, "bootMer_s": [%s], "nboot": %d, "simulate_s": [%s], "predict_s": [%s], "lme4": "%s"}\n',
            fit_s, paste(sprintf("%.6f", boot_s), collapse = ", "), nboot, paste(sprintf("%.6f", sim_s), collapse = ", "),
            paste(sprintf("%.6f", pred_s), collapse = ", "), as.character(packageVersion("lme4"))))
