package sampler_test

import (
	"context"
	"fmt"

	"github.com/didicm/didicm/sampler"
)

// A CP run with a stand-in scorer whose scores come from the true forward
// marginals of a known posterior: the sampler recovers it.
func ExampleCP_Run() {
	scorer := exact{post: [][]float64{{0.8, 0.15, 0.05}}}
	res, err := sampler.CP{Steps: 64}.Run(context.Background(), scorer, [][]float32{{0}})
	if err != nil {
		panic(err)
	}
	r := res[0]
	fmt.Printf("class %d, p=%.2f, margin %.2f, NFE %d\n", r.Class, r.MaxProb, r.Margin, r.NFE)
	// Output: class 0, p=0.80, margin 0.66, NFE 64
}
