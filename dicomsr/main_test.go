package dicomsr_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hibiken/asynq/internal/rdb.(*RDB).ClearServerState"))
}
