//go:build tools

// Package tools pins the Kubernetes control-plane commands that
// scripts/build-binaries.sh builds, so that `go mod tidy` keeps their
// requirements in go.mod/go.sum. Nothing here is compiled into a binary.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
