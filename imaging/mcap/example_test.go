package mcap_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/didicm/didicm/imaging/mcap"
)

// Open a log, list its channels, and take one image per topic every
// quarter of a second (testdata/example.mcap: the first second of two
// cameras and an IMU, written by tools/mcap-writer).
func ExampleOpen() {
	f, err := os.Open("testdata/example.mcap")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		log.Fatal(err)
	}
	r, err := mcap.Open(f, st.Size(), mcap.Limits{MaxImageBytes: 1 << 20})
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range r.Channels() {
		fmt.Printf("%-10s %-33s image=%v\n", c.Topic, c.SchemaName, c.CompressedImage)
	}
	sel := mcap.Selection{Every: 250 * time.Millisecond}
	err = r.Images(context.Background(), sel, func(im mcap.Image) error {
		if im.Err == nil {
			fmt.Printf("%s t=%.3fs %s %s\n", im.Topic, float64(im.LogTime-r.Start())/1e9, im.FrameID, im.Format)
		} // else a caller records im.Err (an error record for that topic and time) and goes on
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// /cam/front sensor_msgs/msg/CompressedImage   image=true
	// /cam/rear  sensor_msgs/msg/CompressedImage   image=true
	// /cam/left  sensor_msgs/msg/CompressedImage   image=true
	// /fox/pb    foxglove.CompressedImage          image=true
	// /fox/json  foxglove.CompressedImage          image=true
	// /fox/cdr   foxglove_msgs/msg/CompressedImage image=true
	// /imu       std_msgs/msg/String               image=false
	// /cam/raw   sensor_msgs/msg/Image             image=false
	// /cam/front t=0.000s front png
	// /fox/pb t=0.004s pb jpeg
	// /cam/front t=0.301s front png
	// /fox/pb t=0.403s pb jpeg
	// /cam/front t=0.500s front png
	// /fox/pb t=0.604s pb jpeg
	// /cam/front t=0.800s front png
	// /fox/pb t=0.804s pb jpeg
}
