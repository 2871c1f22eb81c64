"""Pure numerics: proportions, equivalence, survival, pharmacokinetics. No I/O, no domain words."""
