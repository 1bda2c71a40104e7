"""Microbenchmarks behind ``xcs bench ...``; each module measures one capability against its baseline."""
