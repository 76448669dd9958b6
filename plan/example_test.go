package plan_test

import (
	"fmt"

	"github.com/didicm/didicm/plan"
)

// At K = 100,000 the paper's dense CP would need 74.5 GiB per image; the
// rank-one CP fits in a 2 GiB budget.
func ExampleDecide() {
	p, err := plan.Decide(plan.Request{NumClasses: 100_000, Budget: 2 << 30, ActivationBytes: 178_000, InputBytes: 3136})
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Sampler, p.MicroBatch, p.Costs[1].Fits, plan.Bytes(p.Costs[1].BytesPerImage))
	// Output: cp 64 false 74.5 GiB
}
