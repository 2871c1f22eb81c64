"""Trial design: sample size and power, group-sequential boundaries, the trial simulator."""
