"""Files and places: atomic writes (:mod:`xcs.io.atomic`) and the data / cache directories
(:mod:`xcs.io.paths`)."""
