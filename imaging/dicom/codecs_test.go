package dicom_test

import (
	"github.com/didicm/didicm/imaging/dicom"
	"github.com/didicm/didicm/imaging/dicom/jpeg12"
	"github.com/didicm/didicm/imaging/dicom/jpeg2000"
	"github.com/didicm/didicm/imaging/dicom/jpegls"
)

// codecsRegistered says whether this test binary has the cgo codecs
// (JPEG-LS, JPEG 2000), registered as the commands register them.
var codecsRegistered = jpegls.Available && jpeg2000.Available && jpeg12.Available

func init() {
	if codecsRegistered {
		for _, uid := range jpegls.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpegls.Decode)
		}
		for _, uid := range jpeg12.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpeg12.Decode)
		}
		for _, uid := range jpeg2000.TransferSyntaxes {
			dicom.RegisterDecoder(uid, jpeg2000.Decode)
		}
	}
}
