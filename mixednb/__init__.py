__version__ = "0.0.1"

# nbdev writes only the docstring and __version__; the imports below load every
# chapter in reading order, so that the @patch methods of later chapters exist.
from .data import dataset, datasets
from .formula import FormulaError, Formula, parse_formula, term, zerocorr, fulldummy
from .schema import DummyCoding, EffectsCoding, HelmertCoding, FullDummyCoding, Grouping
from .modelframe import as_table, model_frame, ModelFrame, ReTermSpec
from .remat import ReMat
from .blocks import BlockDescription
from . import linalg
from .lmm import MixedModel, LinearMixedModel, FeTerm, dense_objective
from .fitting import OptSummary
from .extractors import CoefTable, VarCorr, PCA
from .display import summary_text, coeftable_lines, varcorr_lines
from .families import (Bernoulli, Binomial, Poisson, LogitLink, ProbitLink, CloglogLink, LogLink, IdentityLink,
                       SqrtLink, InverseLink, Normal, Gamma, InverseGaussian, glm_fit)
from .gausshermite import ghnorm
from .glmm import GeneralizedLinearMixedModel
from .api import fit
from .inference import likelihoodratiotest, LikelihoodRatioTest, parametricbootstrap, BootstrapResult, shortestcovint
from .profiles import MixedModelProfile
from .predict import newdata_design, restoreoptsum
from .ddf import satterthwaite_table, kenward_roger_table, satterthwaite_F, kr_test, fe_term_columns, type3_contrasts
from .scale import is_source, as_dataset, fit_source, OutOfCoreLMM, RowsOnDisk, memory_table, check_memory
