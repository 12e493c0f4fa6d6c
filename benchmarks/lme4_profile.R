# Times lme4's profile intervals on one LMM, inside R: the child process of benchmarks/profile.py.
# usage: Rscript lme4_profile.R DATA.csv FORMULA REML REPS CATCOLS
#   CATCOLS: comma-separated columns to read as factors (levels in code-point order, as mixednb sorts them)
# One warm-up `confint(m, method = "profile")` (excluded), then REPS timed ones, each `gc()` first and timed by
# system.time; the model is fitted once, outside the timing. Prints one JSON line:
# {"times": [...], "cpu": [...], "lower": [...], "upper": [...], "lme4": "1.1.31"}  (wall and CPU seconds)
suppressPackageStartupMessages(library(lme4))
a <- commandArgs(trailingOnly = TRUE)
path <- a[1]; form <- as.formula(a[2]); reml <- as.logical(a[3]); reps <- as.integer(a[4])
cats <- if (length(a) >= 5 && nzchar(a[5])) strsplit(a[5], ",")[[1]] else character(0)
d <- read.csv(path, stringsAsFactors = FALSE)
for (v in cats) d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]]), method = "radix"))
m <- lmer(form, d, REML = reml)
ci <- suppressMessages(suppressWarnings(confint(m, method = "profile")))     # warm-up
times <- numeric(0); cpu <- numeric(0)
while (length(times) < reps) {
  gc()
  st <- system.time(ci <- suppressMessages(suppressWarnings(confint(m, method = "profile"))))
  times <- c(times, st[["elapsed"]]); cpu <- c(cpu, st[["user.self"]] + st[["sys.self"]])
}
num <- function(x) paste(sprintf("%.10g", x), collapse = ", ")
cat(sprintf('{"times": [%s], "cpu": [%s], "lower": [%s], "upper": [%s], "lme4": "%s"}\n', num(times), num(cpu),
            num(ci[, 1]), num(ci[, 2]),
            as.character(packageVersion("lme4"))))
