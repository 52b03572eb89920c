// Command v2only speaks only protocol major 2, which no host speaks yet.
package main

import (
	"context"

	sigv1 "github.com/quarrylinux/quarry/sdk/internal/sigv1"
	"github.com/quarrylinux/quarry/sdk/internal/testplugins/rawserve"
)

type srv struct{ sigv1.UnimplementedSIGServer }

func (srv) GetPluginInfo(context.Context, *sigv1.GetPluginInfoRequest) (*sigv1.GetPluginInfoResponse, error) {
	return rawserve.Info("v2only", 2), nil
}

func main() { rawserve.Serve(2, srv{}) }
