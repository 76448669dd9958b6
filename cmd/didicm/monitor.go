package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/spf13/cobra"
)

func (a *app) monitorCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Serve the Asynq web UI (queues, tasks, failures)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opt, err := a.cfg.redis()
			if err != nil {
				return usageError{err}
			}
			routeRedisLogs(a.log)
			if err := pingRedis(opt); err != nil {
				return err
			}
			ui := asynqmon.New(asynqmon.Options{RootPath: "/", RedisConnOpt: opt})
			defer ui.Close()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			srv := &http.Server{Handler: ui, ReadHeaderTimeout: 5 * time.Second}
			fmt.Fprintf(a.stdout, "asynq monitor on http://%s/\n", ln.Addr())
			go func() {
				<-cmd.Context().Done()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			}()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", ":8080", "listen address")
	addRedisFlag(cmd.Flags())
	return cmd
}
