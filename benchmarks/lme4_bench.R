# Times lme4 on one model, inside R: the child process of benchmarks/run.py.
# usage: Rscript lme4_bench.R DATA.csv FORMULA FAMILY NAGQ REML REPS CATCOLS SETTINGS
#   FAMILY: gaussian | binomial | poisson;  NAGQ: 1, 9 or 0 (0 = lme4's fast fit);  REML: TRUE/FALSE
#   CATCOLS: comma-separated columns to read as factors (levels in code-point order, as mixednb sorts them)
#   SETTINGS: comma-separated optimizer settings to time, each separately:
#     default (lmerControl() / glmerControl()), nloptwrap, bobyqa
# Each setting: one warm-up fit (excluded unless it took >= 10 s: then it counts as a repeat, as in
# ../shared/reference/lme4_fits.json), then REPS timed fits, each `gc()` first and timed by system.time.
# Prints one JSON line: {"settings": {"default": {"times": [...], "objective": ...}, ...}, "lme4": "1.1.31"}
suppressPackageStartupMessages(library(lme4))
a <- commandArgs(trailingOnly = TRUE)
path <- a[1]; form <- as.formula(a[2]); fam <- a[3]; nagq <- as.integer(a[4])
reml <- as.logical(a[5]); reps <- as.integer(a[6])
cats <- if (length(a) >= 7 && nzchar(a[7])) strsplit(a[7], ",")[[1]] else character(0)
settings <- if (length(a) >= 8 && nzchar(a[8])) strsplit(a[8], ",")[[1]] else "default"
d <- read.csv(path, stringsAsFactors = FALSE)
for (v in cats) d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))

control <- function(s) {
  if (fam == "gaussian") {
    if (s == "default") lmerControl() else lmerControl(optimizer = s)
  } else {
    if (s == "default") glmerControl() else glmerControl(optimizer = s)
  }
}
one <- function(s) {
  if (fam == "gaussian") lmer(form, d, REML = reml, control = control(s))
  else glmer(form, d, family = fam, nAGQ = nagq, control = control(s))
}
objective <- function(m) {
  if (fam == "gaussian" && reml) getME(m, "devcomp")$cmp[["REML"]] else -2 * as.numeric(logLik(m))
}
json_setting <- function(s) {
  gc()
  t0 <- system.time(m <- suppressMessages(suppressWarnings(one(s))))[["elapsed"]]   # warm-up
  times <- if (t0 >= 10) t0 else numeric(0)
  while (length(times) < reps) {
    gc()
    times <- c(times, system.time(m <- suppressMessages(suppressWarnings(one(s))))[["elapsed"]])
  }
  sprintf('"%s": {"times": [%s], "objective": %.10f}', s,
          paste(sprintf("%.6f", times), collapse = ", "), objective(m))
}
parts <- vapply(settings, json_setting, character(1))
cat(sprintf('{"settings": {%s}, "lme4": "%s"}\n', paste(parts, collapse = ", "),
            as.character(packageVersion("lme4"))))
