"""sitecustomize for ``make asan``: import xcs from the overlay on PYTHONPATH, not the editable install.

The editable install puts a finder in front of ``sys.meta_path`` that maps ``xcs._native`` to the
optimised build; dropping it lets the overlay (symlinked sources plus the sanitizer build) win.
"""

import sys

sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ScikitBuildRedirectingFinder"]
