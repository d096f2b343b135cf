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
