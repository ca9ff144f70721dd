/*
 * gilreq.h: asking the thread that holds the GIL to let it go now.
 *
 * A thread waiting for the GIL asks the holder to drop it only after the
 * switch interval (5 ms by default), and meanwhile takes it whenever the
 * holder releases it by itself -- in a blocking call such as os.stat().
 * A sampler that simply waited would sample at those release points only
 * (every sample of a loop around os.path.exists() would land on
 * 'exists') and at most every 5 ms.  So the sampler thread sets the
 * interpreter's own drop request, as CPython's take_gil() does when the
 * interval runs out, just before it waits: the holder lets go at its next
 * eval-breaker check (a call or a backward jump), wherever it is.
 *
 * The request lives in per-version internal structures, so this is the one
 * file (with frames.c) that reads them; see gilreq.c.
 */
#ifndef PLOP_GILREQ_H
#define PLOP_GILREQ_H

#include <Python.h>

/*
 * Sets the GIL drop request of interp, as the switch interval's timeout
 * does.  Called without the GIL, just before taking it.  Harmless when
 * nobody holds the GIL (the request is cleared by the next holder's
 * eval-breaker check).
 */
void gil_request_drop(PyInterpreterState *interp);

/*
 * Called by the thread that asked, once it holds the GIL: ends the main
 * thread's wait in the handoff that 2.7 and 3.6 use instead of a drop
 * request (gilreq.c).  Does nothing on other versions.
 */
void gil_request_done(void);

#endif
