package ort

/*
#include <signal.h>
#include <string.h>

static struct sigaction didicm_saved[NSIG];

static void didicm_save_signals(void) {
	for (int i = 1; i < NSIG; i++) {
		memset(&didicm_saved[i], 0, sizeof(didicm_saved[i]));
		sigaction(i, NULL, &didicm_saved[i]);
	}
}

static int didicm_restore_signals(void) {
	int changed = 0;
	for (int i = 1; i < NSIG; i++) {
		if (i == SIGKILL || i == SIGSTOP) continue;
		struct sigaction now;
		if (sigaction(i, NULL, &now) != 0) continue;
		if (now.sa_handler != didicm_saved[i].sa_handler || now.sa_flags != didicm_saved[i].sa_flags) {
			sigaction(i, &didicm_saved[i], NULL);
			changed++;
		}
	}
	return changed;
}

static void didicm_clobber_sigterm_for_test(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
}
*/
import "C"

import "sync"

var signalMu sync.Mutex

// guardSignals runs fn and, when on, puts back every signal handler that fn
// replaced. The CUDA execution provider installs its own handlers over Go's
// (onnxruntime_go issue #140), after which SIGTERM would kill a worker instead
// of starting its graceful shutdown. It returns how many handlers it restored.
func guardSignals(on bool, fn func()) int {
	if !on {
		fn()
		return 0
	}
	signalMu.Lock()
	defer signalMu.Unlock()
	C.didicm_save_signals()
	fn()
	return int(C.didicm_restore_signals())
}

// clobberSIGTERM replaces the SIGTERM handler with SIG_DFL, as a foreign
// library might; tests only.
func clobberSIGTERM() { C.didicm_clobber_sigterm_for_test() }
