// Command etcd is the etcd server, built from the go.etcd.io/etcd/server/v3
// module pinned in go.mod. It is equivalent to upstream's etcd binary
// (whose own main package lives in a module with local replace directives and
// so cannot be built from the module proxy directly).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
