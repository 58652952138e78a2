// The pod sandbox's pause process for the kind node image (see e2e/kind/lib/tools.sh).
module npl.local/kind/pause

go 1.26.0
