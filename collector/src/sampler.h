/*
 * sampler.h: the Sampler type of plop._collector, the C core behind
 * plop.collector.Collector (see sampler.c for how sampling works).
 */
#ifndef PLOP_SAMPLER_H
#define PLOP_SAMPLER_H

#include <Python.h>

/* Creates the Sampler heap type; new reference, or NULL with an exception. */
PyObject *sampler_type_new(PyObject *module);

#endif
