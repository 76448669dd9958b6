// Package dicomsr writes a finished job's results back where radiologists
// look: one DICOM Comprehensive SR (structured report) per classified
// study, or per series, filed into the source study, kept as a .dcm in the
// job's folder and sent to a PACS with STOW-RS. Writer is the
// output.Writer named "sr"; the DICOM encoding is package part10's.
//
// # What a report holds
//
// The report is a new series of the source study: the same Study Instance
// UID, a Series Instance UID of its own, Modality SR, and the Patient,
// General Study and Patient Study attributes copied from one of the
// study's instances (read from the job's input by the writer itself: the
// records hold no patient data, and no patient data reaches a record, a
// log line or an error). Its content is a TID 1500-style measurement
// report (PS3.16), drawn in docs/pacs.md:
//
//	Imaging Measurement Report
//	├ language, observer context (device: didicm), procedure reported
//	└ Imaging Measurements
//	  ├ Algorithm Name, Version, Parameters (TID 4019: the model's name,
//	  │ version and SHA-256, the sampler, the calibration, the review rule)
//	  └ Measurement Group, one per classified image (a frame of a
//	    multi-frame instance is an image)
//	    ├ Tracking Identifier and Unique Identifier
//	    ├ Finding: the predicted class, coded
//	    ├ Source: the image (SOP class and instance, frame)
//	    ├ Probability of the finding, Normalised entropy
//	    ├ Prediction set size and members, when calibrated
//	    └ Flagged for review: Yes or No
//
// A class is coded as the model's metadata says (didicm.class_codes: any
// scheme per class) or else in ClassScheme, a private scheme whose codes
// are class indices of one model. The concepts DICOM has no code for are
// in PrivateScheme. The template is not TID 1500 itself (its Content
// Template Sequence is left out): its probability and entropy concepts
// are private, and the algorithm is identified once, for all images.
//
// # Exactly one report per study per job
//
// A report's Series and SOP Instance UIDs are derived (DeriveUID) from the
// job (its output bucket, folder and ID), the level (study or series) and
// the study's (and series') UID. Writing again, after a retry or by hand,
// makes the same UIDs, so the report replaces its copy in the job's
// folder and, sent again, its copy in the PACS, which holds one instance
// per SOP Instance UID. A PACS may keep the first copy of an instance it
// already holds (Orthanc does unless its OverwriteInstances option is
// true): still one report, the first one.
//
// # Memory
//
// Records stream batch by batch (output.Job.Records); each classified
// DICOM record becomes a small entry appended to a temporary file (see
// spill), with an index in memory of one run per stretch of consecutive
// records of one group, so memory grows with the number of studies (and
// with how often their records interleave), not with the images. A report
// is made from one group at a time, holding at most Config.MaxImages
// entries and its encoded form.
//
// # What it reads from the input
//
// For each report: one instance's header, for the study's attributes, and
// each referenced instance's SOP Class UID: with one QIDO-RS search per
// series from a DICOMweb input, else from each instance's header, read as
// a stream from a bucket up to the SOP Instance UID (a few hundred bytes
// of each file).
package dicomsr
