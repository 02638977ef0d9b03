"""Operations: the health and metrics endpoint (`corecoach run` serves it; see the README)."""
