"""Default values of every threshold and option, documented once (no heavy imports here)."""

#: Minimum reads at the site for a call, or for an absence to count as evidence.
DEFAULT_MIN_DEPTH = 20
#: Minimum reads supporting the ALT allele.
DEFAULT_MIN_ALT = 3
#: Minimum variant allele fraction.
DEFAULT_MIN_VAF = 0.02
#: Most progressive lesions a *focal* progression may have.
DEFAULT_FOCAL_MAX = 1
#: Permutations of status labels in the clustering test.
DEFAULT_PERMUTATIONS = 10_000
#: Seed of the permutation test.
DEFAULT_SEED = 20_240_601
#: Sequencing error rate the ALT reads of an absence are tested against (one-sided binomial).
DEFAULT_ERROR_RATE = 0.005
#: Significance of that test: ALT reads with p < alpha are above noise (``low_level``).
NOISE_ALPHA = 0.05
#: Probability of detection needed for an absence to count as evidence.
DEFAULT_MIN_POWER = 0.95
#: Allele fraction in a matched normal from which a variant is germline.
GERMLINE_MIN_VAF = 0.25
#: Cancer-cell fractions above this are flagged (copy-number change at the locus) before clamping.
CCF_FLAG_ABOVE = 1.2
#: Plasma (cell-free DNA) detection thresholds: minimum allele fraction, ALT reads and depth.
#: They assume error-corrected (UMI) sequencing; see the README section "Plasma and time".
DEFAULT_PLASMA_MIN_VAF = 0.001
DEFAULT_PLASMA_MIN_ALT = 3
DEFAULT_PLASMA_MIN_DEPTH = 500
#: Error rate the ALT reads of a plasma absence are tested against (error-corrected UMI data;
#: the tissue ``DEFAULT_ERROR_RATE`` would call 9/10000 reads noise under a 0.1% detection limit).
DEFAULT_PLASMA_ERROR_RATE = 1e-4
#: KIT D816V seen only in plasma below this allele fraction is flagged as possibly from blood
#: cells (mast-cell or other haematopoietic clones) rather than from the tumour.
HAEMATOPOIETIC_MAX_VAF = 0.05
#: Total copy number from which a gene is called amplified (``--amp-cn``; a convention, see the
#: README section "Copy number and other roads to resistance").
DEFAULT_AMP_CN = 6.0
