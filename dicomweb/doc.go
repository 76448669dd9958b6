// Package dicomweb reads a PACS or VNA over DICOMweb (DICOM PS3.18): a
// Client for QIDO-RS searches, WADO-RS retrieval and STOW-RS storing (the
// DICOM structured reports of package dicomsr), within one set of bounds on
// load, and a Source that lists a
// service's instances into a job's manifest and reads them back, for
// input URLs of the schemes dicomweb+http and dicomweb+https:
//
//	dicomweb+https://pacs.example.org/dicom-web?Modality=CT&StudyDate=20240101-20240131&window=20:00-06:00
//
// The URL's query holds QIDO-RS matching keys (DICOM keywords or tags:
// Modality, StudyDate ranges, StudyInstanceUID lists, SeriesDescription
// patterns, any attribute the service allows) and the client's options in
// lower case (see ParseURL). A job's series_rules (SeriesRule) choose
// among the series that match.
//
// Keys. Every listed instance is one key, its WADO-RS path below the
// service root: studies/{study}/series/{series}/instances/{sop} (Key).
// The producer snapshots the keys into the manifest, so retries, resumes
// and one record per instance work as they do for buckets.
//
// Listing. Studies, then each study's series, then each series'
// instances, with limit and offset. A page shorter than asked does not end
// a listing (servers cap pages silently); a page with nothing new does, or
// reaching the count the service reported for the parent (Number of Study
// Related Series, Number of Series Related Instances). A listing that ends
// short of that count fails (ErrIncomplete): Orthanc 1.10 applies its
// LimitFindInstances before the offset, so no page reaches past it.
//
// Reading. WADO-RS with Accept: multipart/related; type="application/dicom"
// listing the transfer syntaxes imaging/dicom decodes and then "*" (as
// stored); whatever syntax comes back is read. An instance is read into
// memory up to the job's max_bytes (storage.ErrTooLarge past it, having
// read no more), a QIDO-RS page up to Config.MaxPageBytes.
//
// Load. A Client has at most InFlight requests open and starts at most
// Rate per second (a token bucket); 429 and 503 answers are retried with
// exponential backoff and jitter, honouring Retry-After; a Window limits
// the hours requests start in. Outside it a request waits for the window
// when its context allows, and fails with ErrOutsideWindow (transient)
// when it does not.
//
// Errors. A missing instance is storage.ErrNotFound (the worker's error
// record, reason "read"), one over the limit storage.ErrTooLarge; anything
// else fails the batch, which is retried. No error carries a request's
// query (it can hold patient attributes), a server's answer body (servers
// echo requests) or a credential.
//
// Credentials: HTTP basic or a bearer token, from SetCredentials (the
// commands' config) or the DIDICM_DICOMWEB_* environment; see Credentials.
package dicomweb
