package dicom_test

// codecsRegistered says whether this test binary has the cgo codecs
// (JPEG-LS, JPEG 2000); set by codecs_cgo_test.go.
var codecsRegistered = false
