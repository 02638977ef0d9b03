"""Today's advice: an easy run, a rest day or a core session, from the training load, the last
soreness outcome and the last core session (each through its feature's api)."""
