"""`python -m assay`: the same command line as the `assay` console script."""

from assay.cli import main

main()
