package dicomsr

import (
	"strconv"
	"unicode/utf8"

	"github.com/didicm/didicm/dicomsr/part10"
)

// Code is a coded concept: a value in a coding scheme and its meaning.
type Code struct {
	Value, Scheme, SchemeVersion, Meaning string
}

// Coding schemes of our own (PS3.16 8.2: designators starting with "99"
// are local). PrivateScheme holds the report's concepts that DICOM has no
// code for; ClassScheme codes a model's classes that its metadata gives
// no code (didicm.class_codes), by class index, its version being the
// first 16 hex digits of the model's SHA-256, so that class 3 of one
// model is never taken for class 3 of another.
const (
	PrivateScheme = "99DIDICM"
	ClassScheme   = "99DIDICMCLASS"
)

// Concepts the report uses: DICOM's (DCM), SNOMED CT's (SCT), UCUM's and
// our own (PrivateScheme) where the standard has none for a classifier's
// output. docs/pacs.md lists them.
var (
	codeReport          = Code{"126000", "DCM", "", "Imaging Measurement Report"}
	codeLanguage        = Code{"121049", "DCM", "", "Language of Content Item and Descendants"}
	codeEnglishUS       = Code{"en-US", "RFC5646", "", "English (United States)"}
	codeObserverType    = Code{"121005", "DCM", "", "Observer Type"}
	codeDevice          = Code{"121007", "DCM", "", "Device"}
	codeDeviceUID       = Code{"121012", "DCM", "", "Device Observer UID"}
	codeDeviceName      = Code{"121013", "DCM", "", "Device Observer Name"}
	codeDeviceMaker     = Code{"121014", "DCM", "", "Device Observer Manufacturer"}
	codeDeviceModel     = Code{"121015", "DCM", "", "Device Observer Model Name"}
	codeProcedure       = Code{"121058", "DCM", "", "Procedure reported"}
	codeImaging         = Code{"363679005", "SCT", "", "Imaging"}
	codeMeasurements    = Code{"126010", "DCM", "", "Imaging Measurements"}
	codeGroup           = Code{"125007", "DCM", "", "Measurement Group"}
	codeTrackingID      = Code{"112039", "DCM", "", "Tracking Identifier"}
	codeTrackingUID     = Code{"112040", "DCM", "", "Tracking Unique Identifier"}
	codeFinding         = Code{"121071", "DCM", "", "Finding"}
	codeSource          = Code{"260753009", "SCT", "", "Source"}
	codeAlgorithmName   = Code{"111001", "DCM", "", "Algorithm Name"}
	codeAlgorithmVer    = Code{"111003", "DCM", "", "Algorithm Version"}
	codeAlgorithmParams = Code{"111002", "DCM", "", "Algorithm Parameters"}
	codeYes             = Code{"373066001", "SCT", "", "Yes"}
	codeNo              = Code{"373067005", "SCT", "", "No"}
	codeNoUnits         = Code{"1", "UCUM", "", "no units"}

	codeProbability = Code{"PROB", PrivateScheme, "", "Probability of the finding"}
	codeEntropy     = Code{"ENTROPY_NORM", PrivateScheme, "", "Normalised entropy of the posterior"}
	codeSetMember   = Code{"PRED_SET", PrivateScheme, "", "Prediction set member"}
	codeSetSize     = Code{"PRED_SET_SIZE", PrivateScheme, "", "Prediction set size"}
	codeReview      = Code{"REVIEW", PrivateScheme, "", "Flagged for review"}
)

// classCode is the private code of class i of a model with sha256.
func classCode(i int, name, sha256 string) Code {
	v := sha256
	if len(v) > 16 {
		v = v[:16]
	}
	return Code{Value: strconv.Itoa(i), Scheme: ClassScheme, SchemeVersion: v, Meaning: name}
}

// item is the code as a Code Sequence Macro item (PS3.3 8.8): Code Value
// when it fits 16 characters, else Long Code Value; the meaning cut to
// the 64 characters its VR holds.
func (c Code) item() part10.Dataset {
	ds := part10.Dataset{
		part10.Text(0x00080102, "SH", c.Scheme),
		part10.Text(0x00080104, "LO", cut(c.Meaning, 64)),
	}
	if utf8.RuneCountInString(c.Value) <= 16 {
		ds = append(ds, part10.Text(0x00080100, "SH", c.Value))
	} else {
		ds = append(ds, part10.Text(0x00080119, "UC", c.Value))
	}
	if c.SchemeVersion != "" {
		ds = append(ds, part10.Text(0x00080103, "SH", c.SchemeVersion))
	}
	return ds
}

// cut shortens s to n characters, ending it with "..." when it was longer.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

// schemes is the Coding Scheme Identification Sequence: our private
// schemes, named for readers that meet them.
func schemes(model Model) part10.Element {
	return part10.Seq(0x00080110,
		part10.Dataset{
			part10.Text(0x00080102, "SH", PrivateScheme),
			part10.Text(0x00080115, "ST", "didicm report concepts"),
			part10.Text(0x00080116, "ST", "didicm"),
		},
		part10.Dataset{
			part10.Text(0x00080102, "SH", ClassScheme),
			part10.Text(0x00080103, "SH", classCode(0, "", model.SHA256).SchemeVersion),
			part10.Text(0x00080115, "ST", cut("classes of model "+model.Name+" by index", 1024)),
			part10.Text(0x00080116, "ST", "didicm"),
		})
}
