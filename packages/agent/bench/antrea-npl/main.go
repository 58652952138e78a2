// Command antrea-npl runs Antrea's own NodePortLocal controller (pkg/agent/nodeportlocal, unchanged)
// as a stand-alone process, wired exactly as antrea-agent wires it (cmd/antrea-agent/agent.go):
// a Pod informer filtered by spec.nodeName with a NamespaceIndex and Antrea's Pod trimmer, the shared
// factory's Service informer (12 h default resync), the default Linux range 61000-62000, and
// npl.InitializeNPLAgent + Run. It exists only as a benchmark baseline (packages/agent/bench/
// antrea-compare.ts); it is never shipped. The API client limits are flags (default QPS 50, burst 100,
// the same as npl-agent's benchmark).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	npl "antrea.io/antrea/pkg/agent/nodeportlocal"
	"antrea.io/antrea/pkg/util/k8s"
)

// The same constants as cmd/antrea-agent/agent.go.
const (
	informerDefaultResync = 12 * time.Hour
	resyncPeriodDisabled  = 0 * time.Minute
)

func parseRange(s string) (int, int, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("--port-range %q: expected START-END", s)
	}
	start, err1 := strconv.Atoi(parts[0])
	end, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || start <= 0 || end <= start {
		return 0, 0, fmt.Errorf("--port-range %q: expected START-END with 0 < START < END", s)
	}
	return start, end, nil
}

func run() error {
	// A FlagSet of our own: a package Antrea links in registers -kubeconfig on flag.CommandLine.
	fs := flag.NewFlagSet("antrea-npl", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (required)")
	nodeName := fs.String("node-name", os.Getenv("NODE_NAME"), "this Node's name (default $NODE_NAME)")
	portRange := fs.String("port-range", "61000-62000", "NodePortLocal port range, as antrea-agent's nodePortLocal.portRange")
	qps := fs.Float64("qps", 50, "API client QPS")
	burst := fs.Int("burst", 100, "API client burst")
	klog.InitFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *kubeconfig == "" || *nodeName == "" {
		return fmt.Errorf("--kubeconfig and --node-name (or NODE_NAME) are required")
	}
	startPort, endPort, err := parseRange(*portRange)
	if err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", *kubeconfig, err)
	}
	cfg.QPS = float32(*qps)
	cfg.Burst = *burst
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}

	informerFactory := informers.NewSharedInformerFactoryWithOptions(client, informerDefaultResync,
		informers.WithTransform(k8s.NewTrimmer(k8s.TrimNode)))
	serviceInformer := informerFactory.Core().V1().Services()
	podInformer := coreinformers.NewFilteredPodInformer(client, metav1.NamespaceAll, resyncPeriodDisabled,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
		func(options *metav1.ListOptions) {
			options.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", *nodeName).String()
		})
	if err := podInformer.SetTransform(k8s.NewTrimmer(k8s.TrimPod)); err != nil {
		return err
	}

	controller, err := npl.InitializeNPLAgent(client, serviceInformer, podInformer, startPort, endPort, *nodeName)
	if err != nil {
		return fmt.Errorf("failed to start NPL agent: %w", err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	stopCh := ctx.Done()
	informerFactory.Start(stopCh)
	go podInformer.Run(stopCh)
	go controller.Run(stopCh)
	klog.InfoS("antrea-npl started", "node", *nodeName, "portRange", *portRange, "qps", *qps, "burst", *burst)
	<-stopCh
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
