#!/bin/sh
# Regenerate the README images (diagram, trace plot, surface plot).
#
#   sh docs/make_images.sh            # into docs/images/
#   sh docs/make_images.sh OUT_DIR    # somewhere else (the test suite does this)
#
# Needs Graphviz's `dot` (apt-get install graphviz) and the plot extra
# (pip install "circuit-run[plot]"). Set CIRCUIT_RUN to run another
# circuit-run, e.g. CIRCUIT_RUN="python -m runner".
set -eu
here=$(dirname "$0")
out=${1:-"$here/images"}
run=${CIRCUIT_RUN:-circuit-run}
mkdir -p "$out"
$run --graph "$out/add-multiply.svg" "$here/../circuits/add-multiply.yaml" > /dev/null
$run --plot "$out/distance-ridge-trace.png" --plot-surface "$out/distance-ridge-surface.png" \
    "$here/../circuits/distance-ridge.yaml" > /dev/null
echo "wrote $out/add-multiply.svg, $out/distance-ridge-trace.png, $out/distance-ridge-surface.png"
