//go:build tools

// Package tools pins the Kubernetes commands that scripts/build-binaries.sh
// builds (the control plane, kubectl, and with --node the kind node's kubelet,
// kubeadm and kube-proxy), so that `go mod tidy` keeps their requirements in
// go.mod/go.sum. Nothing here is compiled into a binary.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
