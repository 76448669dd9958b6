// Package mcap reads the compressed camera images of MCAP logs (mcap.dev),
// the container ROS 2 and Foxglove record robots in: Open reads a file's
// structure, Images delivers its images by topic, log-time range and
// sampling step.
//
// It is a focused reader of the format's major version 0, not a general
// MCAP library. It reads the footer and summary (schemas, channels, chunk
// indexes, statistics) when the file has an intact one and then reads only
// the chunks a selection needs; otherwise (no summary, a summary whose CRC
// does not match, a log cut off by a crash) it walks the data section
// record by record. Chunks may be uncompressed, zstd or lz4; their CRCs
// are checked, and a chunk that cannot be read is reported and skipped.
// The data section's CRC is not checked: that would mean reading the whole
// file, which the index is there to avoid.
// Records it does not need (attachments, metadata, message indexes,
// private records) are skipped by their length.
//
// Messages decoded: sensor_msgs/msg/CompressedImage (and the spellings
// sensor_msgs/CompressedImage, sensor_msgs::msg::CompressedImage) and
// foxglove_msgs/msg/CompressedImage in ROS 2 CDR, little or big endian;
// foxglove.CompressedImage in protobuf and in JSON. Image.Data is the
// compressed payload (JPEG, PNG, ...), for the image decoders; it is
// valid during the callback only.
//
// Sampling (Selection.Every) follows imaging/video's rule in log time, so
// that the pipeline can split a long log into time ranges for several
// workers and retry one range alone.
//
// Every size a file claims is checked against Limits before anything is
// allocated, and decompression never writes past the size checked, so
// memory stays bounded whatever the headers say; a malformed file is an
// error, never a panic.
package mcap
