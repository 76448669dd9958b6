package main

// Inputs that are not buckets register their URL schemes with package
// source when they are linked: dicomweb+http:// and dicomweb+https://, a
// PACS or VNA read over DICOMweb (docs/pacs.md).
import _ "github.com/didicm/didicm/dicomweb"
