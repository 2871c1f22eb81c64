"""Drug supply (RTSM) rules: which kit to dispense, and what a site needs (pure functions)."""
