package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// redisLog carries go-redis's own messages (a Sentinel naming a new master
// after a failover, a dropped connection) into the command's log, so that
// they are JSON with the rest when log.format is json, and pass through
// redact.
type redisLog struct{ log *slog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.log.Info(fmt.Sprintf(format, v...), "component", "go-redis")
}

// routeRedisLogs sends go-redis's messages (process-wide) to log.
func routeRedisLogs(log *slog.Logger) { redis.SetLogger(redisLog{log}) }
