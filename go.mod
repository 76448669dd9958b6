module github.com/didicm/didicm

go 1.26.8
