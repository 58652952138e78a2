//go:build tools

// Package tools pins flanneld (github.com/flannel-io/flannel, its main package)
// in this wrapper module; e2e/kind/cni/build.sh builds it from here.
package tools

import _ "github.com/flannel-io/flannel"
