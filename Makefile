# plop: one Makefile for every product.
#
#   make            build plop-render and the collector extension for $(PYTHON)
#   make test       install missing system packages, build, run every test suite
#   make demo       install, build, profile the demo server live, render the report
#   make bench      every benchmark (bench-collector, bench-render)
#   make fuzz       build the libFuzzer harness and run it for FUZZ_SECONDS
#
# Products and where their sources live:
#   build/plop-render          render/*.c + generated build/gen/templates.c
#   collector/plop/_collector* collector/src/*.c, for the interpreter $(PYTHON)
#   build/tests/test_*         tests/c/test_*.c, each linked with its module
#
# V=1 shows the commands.  CI=true (set by CI) adds -Werror.

PYTHON ?= python3
CC ?= cc
CLANG ?= clang
PKG_CONFIG ?= pkg-config
FUZZ_SECONDS ?= 60

ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -pedantic -Wstrict-prototypes -Wshadow -Wno-unused-parameter
ifeq ($(CI),true)
WARN += -Werror
endif
OPT ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -MMD -MP

# One source for the version: VERSION.  plop-render gets it as
# PLOP_VERSION; pyproject.toml and the Python package must say the same,
# which every build of plop-render checks.
VERSION := $(shell cat VERSION)

# ---------------------------------------------------------------- render
GV_CFLAGS := $(shell $(PKG_CONFIG) --cflags libgvc 2>/dev/null)
GV_LIBS := $(shell $(PKG_CONFIG) --libs libgvc 2>/dev/null)
GV_PLUGIN_DIR := $(shell $(PKG_CONFIG) --variable=libdir libgvc 2>/dev/null)/graphviz
# The layout and render plugins are linked in and registered with
# gvContextPlugins(), as Graphviz's own demo does, so plop-render does not
# depend on the plugin config file that only the graphviz package writes.
GV_PLUGIN_LIBS := -L$(GV_PLUGIN_DIR) -Wl,-rpath,$(GV_PLUGIN_DIR) \
	-lgvplugin_dot_layout -lgvplugin_core -lgvplugin_pango

B := build
TEMPLATES := $(sort $(wildcard templates/*.html templates/*.css templates/*.js))
RENDER_SRCS := $(sort $(wildcard render/*.c))
RENDER_LIB_SRCS := $(filter-out render/main.c,$(RENDER_SRCS))
RENDER_OBJS := $(RENDER_SRCS:%.c=$(B)/%.o) $(B)/gen/templates.o
RENDER_LIB_OBJS := $(RENDER_LIB_SRCS:%.c=$(B)/%.o) $(B)/gen/templates.o
RENDER_CFLAGS := $(BASE_CFLAGS) $(GV_CFLAGS) -Irender -I$(B)/gen \
	-DPLOP_VERSION='"$(VERSION)"'
RENDER_LIBS := $(GV_LIBS) $(GV_PLUGIN_LIBS) -lz -lm

# Sanitizer build of the same sources: build/asan/...
A := $(B)/asan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
RENDER_ASAN_OBJS := $(RENDER_SRCS:%.c=$(A)/%.o) $(A)/gen/templates.o
RENDER_ASAN_LIB_OBJS := $(RENDER_LIB_SRCS:%.c=$(A)/%.o) $(A)/gen/templates.o

# ---------------------------------------------------------------- collector
PY_INCLUDE := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
# 2.7's sysconfig has no EXT_SUFFIX: its extensions are plain '.so'.
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX") or ".so")' 2>/dev/null)
PY_TAG := $(shell $(PYTHON) -c 'import sys; print("%d%d" % sys.version_info[:2])' 2>/dev/null)
EXT := collector/plop/_collector$(PY_EXT_SUFFIX)
EXT_SRCS := $(sort $(wildcard collector/src/*.c))
EXT_OBJS := $(EXT_SRCS:%.c=$(B)/py$(PY_TAG)/%.o)
EXT_CFLAGS := $(BASE_CFLAGS) -fPIC -fvisibility=hidden -I$(PY_INCLUDE) -Icollector/src
EXT_LDFLAGS := -shared -pthread

# Sanitizer copy of the extension for `make test-collector-asan`: objects in
# $(A)/py$(PY_TAG)/collector/src/, and a package directory of its own
# (copies of collector/plop/*.py next to the ASan-built .so) so the
# in-place extension that every other target uses is never replaced.
EXT_ASAN_PKG := $(A)/py$(PY_TAG)/pkg
EXT_ASAN := $(EXT_ASAN_PKG)/plop/_collector$(PY_EXT_SUFFIX)
EXT_ASAN_OBJS := $(EXT_SRCS:%.c=$(A)/py$(PY_TAG)/%.o)
EXT_ASAN_PY := $(patsubst collector/plop/%,$(EXT_ASAN_PKG)/plop/%,\
	$(sort $(wildcard collector/plop/*.py)))
EXT_ASAN_LOG := $(A)/py$(PY_TAG)/sanitizer-log
# CPython is not built with ASan, so the gcc runtimes are preloaded.  Leaks
# are not checked (CPython itself is not leak-clean) and the quarantine is
# off (it inflates the memory checks of the tests).  Blocks of 512 bytes
# or less that the extension takes from PyMem_Malloc stay in pymalloc's
# arenas, out of ASan's sight: PYTHONMALLOC=malloc or pymalloc_debug would
# cover them but make the RSS checks of the tests fail.  ASan reports go to
# files under $(EXT_ASAN_LOG), so one from a subprocess or a forked child,
# whose exit status a test may not look at, still fails the suite.  gcc's UBSan cannot log to a file
# next to ASan (GCC PR 94328): its reports go to stderr and the process
# exits 86, which no test expects.
ASAN_RUNTIMES = $(shell $(CC) -print-file-name=libasan.so) \
	$(shell $(CC) -print-file-name=libubsan.so)
COLLECTOR_ASAN_ENV = LD_PRELOAD="$(strip $(ASAN_RUNTIMES))" \
	ASAN_OPTIONS=detect_leaks=0:quarantine_size_mb=0:halt_on_error=1:abort_on_error=0:print_stacktrace=1:exitcode=86:log_path=$(abspath $(EXT_ASAN_LOG))/asan \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86 \
	PYTHONPATH=$(abspath $(EXT_ASAN_PKG))

# `make test-matrix` runs the collector tests on each of PYTHONS; empty,
# tests/run-matrix takes every CPython 2.7 and 3.6+ that pyenv has, or
# $(PYTHON) when there is no pyenv.
PYTHONS ?=

.PHONY: all deps render collector test test-c test-c-valgrind test-render test-render-asan \
	test-collector test-collector-asan test-frames-public test-diff test-diff-asan test-matrix test-foreign test-long test-viewer test-browser test-interop test-fuzz test-valgrind \
	bench bench-collector bench-render fuzz demo clean
.DEFAULT_GOAL := all

all: render collector
render: $(B)/plop-render
collector: $(EXT)

# Installs what is missing (Debian packages, npm modules for the browser
# tests).  Cheap when everything is there: it only checks.
deps:
	$(Q)PYTHON=$(PYTHON) sh .ci/install-deps

$(B)/plop-render: $(RENDER_OBJS) $(B)/version-checked
	$(call say,LINK,$@)
	$(Q)$(CC) -o $@ $(RENDER_OBJS) $(RENDER_LIBS)

$(B)/version-checked: VERSION pyproject.toml collector/plop/__init__.py
	$(Q)grep -qx 'version = "$(VERSION)"' pyproject.toml || \
		{ echo "pyproject.toml: error: version is not '$(VERSION)' (VERSION)"; exit 1; }
	$(Q)grep -qx '__version__ = "$(VERSION)"' collector/plop/__init__.py || \
		{ echo "collector/plop/__init__.py: error: __version__ is not '$(VERSION)' (VERSION)"; exit 1; }
	@mkdir -p $(@D) && touch $@

$(B)/render/main.o: VERSION

$(B)/librender.a: $(RENDER_LIB_OBJS)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/render/%.o: render/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(RENDER_CFLAGS) -c -o $@ $<

# Templates become one C file of byte arrays (jq's od|sed recipe: no xxd).
# templates_get(name, &len) in render/templates.h looks them up by file name.
$(B)/gen/templates.c: $(TEMPLATES) .ci/embed-templates
	$(call say,GEN,$@)
	@mkdir -p $(@D)
	$(Q)sh .ci/embed-templates $(TEMPLATES) > $@.tmp && mv $@.tmp $@

$(B)/gen/templates.o: $(B)/gen/templates.c
	$(call say,CC,$@)
	$(Q)$(CC) $(RENDER_CFLAGS) -Wno-overlength-strings -c -o $@ $<

$(A)/render/%.o: render/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(RENDER_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(A)/gen/templates.o: $(B)/gen/templates.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(RENDER_CFLAGS) $(SAN_FLAGS) -Wno-overlength-strings -c -o $@ $<

$(A)/plop-render: $(RENDER_ASAN_OBJS) $(B)/version-checked
	$(call say,LINK,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $(RENDER_ASAN_OBJS) $(RENDER_LIBS)

$(A)/render/main.o: VERSION

$(A)/librender.a: $(RENDER_ASAN_LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(EXT): $(EXT_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(EXT_LDFLAGS) -o $@ $^

$(B)/py$(PY_TAG)/collector/src/%.o: collector/src/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_CFLAGS) -c -o $@ $<

$(EXT_ASAN): $(EXT_ASAN_OBJS)
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_LDFLAGS) $(SAN_FLAGS) -o $@ $^

$(A)/py$(PY_TAG)/collector/src/%.o: collector/src/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_CFLAGS) $(SAN_FLAGS) -c -o $@ $<

$(EXT_ASAN_PKG)/plop/%.py: collector/plop/%.py
	@mkdir -p $(@D)
	$(Q)cp $< $@

# The public frame-API reader (frames.c's fallback for versions it has no
# struct reader for), built with -DPLOP_FRAMES_PUBLIC for $(PYTHON) (3.11+;
# older versions refuse it with #error) into a package directory of its own
# and run through the collector's core tests: the fallback keeps building
# and keeps working.
PUB := $(B)/public/py$(PY_TAG)
EXT_PUBLIC_PKG := $(PUB)/pkg
EXT_PUBLIC := $(EXT_PUBLIC_PKG)/plop/_collector$(PY_EXT_SUFFIX)
EXT_PUBLIC_OBJS := $(EXT_SRCS:%.c=$(PUB)/%.o)
EXT_PUBLIC_PY := $(patsubst collector/plop/%,$(EXT_PUBLIC_PKG)/plop/%,\
	$(sort $(wildcard collector/plop/*.py)))

$(EXT_PUBLIC): $(EXT_PUBLIC_OBJS)
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_LDFLAGS) -o $@ $^

$(PUB)/collector/src/%.o: collector/src/%.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_CFLAGS) -DPLOP_FRAMES_PUBLIC -c -o $@ $<

$(EXT_PUBLIC_PKG)/plop/%.py: collector/plop/%.py
	@mkdir -p $(@D)
	$(Q)cp $< $@

# ---------------------------------------------------------------- C unit tests
# tests/c/test_NAME.c is linked with librender.a, or, for the collector's
# pure-C modules (no Python.h), with collector/src/NAME.c directly.
C_TESTS := $(patsubst tests/c/%.c,%,$(sort $(wildcard tests/c/test_*.c)))
COLLECTOR_PURE := stacktab threadclock
$(B)/tests/test_%: tests/c/test_%.c $(B)/librender.a
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(RENDER_CFLAGS) -Icollector/src -Itests/c -o $@ $< \
		$(if $(filter $*,$(COLLECTOR_PURE)),collector/src/$*.c,$(B)/librender.a) $(RENDER_LIBS)

$(A)/tests/test_%: tests/c/test_%.c $(A)/librender.a
	$(call say,LINK,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(RENDER_CFLAGS) $(SAN_FLAGS) -Icollector/src -Itests/c -o $@ $< \
		$(if $(filter $*,$(COLLECTOR_PURE)),collector/src/$*.c,$(A)/librender.a) $(RENDER_LIBS)

# ---------------------------------------------------------------- tests
# Each suite ends with its own "N passed, N failed" line; tests/run-suites
# adds them up into the last line of `make test`.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh tests/run-suites

test-c: $(C_TESTS:%=$(B)/tests/%)
	$(Q)sh tests/run-c $(B)/tests $(C_TESTS)

test-c-asan: $(C_TESTS:%=$(A)/tests/%)
	$(Q)sh tests/run-c $(A)/tests $(C_TESTS)

# Fontconfig's caches (reached through pango) are never freed: suppressed.
test-c-valgrind: $(C_TESTS:%=$(B)/tests/%)
	$(Q)RUNNER="valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--suppressions=tests/c/valgrind.supp" \
		sh tests/run-c $(B)/tests $(C_TESTS)

test-render: $(B)/plop-render
	$(Q)$(PYTHON) tests/render/run.py --binary $(B)/plop-render

# Slow unwinding on malloc: Graphviz is built without frame pointers, and
# tests/render/lsan.supp names a frame inside it.
test-render-asan: $(A)/plop-render
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 \
		$(PYTHON) tests/render/run.py --binary $(A)/plop-render --quick

test-valgrind: $(B)/plop-render
	$(Q)$(PYTHON) tests/render/run.py --binary $(B)/plop-render --valgrind --quick

# tests/native/plopnative.c: the test-only extension _plopnative (a C
# thread calling into Python, a thread blocked in C), built for each
# interpreter; the collector's tests find it through PLOP_NATIVE_DIR.
NATIVE_DIR := $(B)/py$(PY_TAG)/native
NATIVE := $(NATIVE_DIR)/_plopnative$(PY_EXT_SUFFIX)
$(NATIVE): tests/native/plopnative.c
	$(call say,CC,$@)
	@mkdir -p $(@D)
	$(Q)$(CC) $(EXT_CFLAGS) $(EXT_LDFLAGS) -o $@ $<

# The toggle's tests live with the viewer's (shared helpers) but run here
# too, so that every interpreter of the matrix runs them.
test-collector: $(EXT) $(NATIVE)
	$(Q)PLOP_NATIVE_DIR=$(abspath $(NATIVE_DIR)) PYTHONPATH=collector \
		$(PYTHON) tests/python/run.py tests/python tests/viewer/test_toggle.py

# The tests find the package through the imported plop (COLLECTOR_DIR), so
# the programs they start load the ASan copy too.
test-collector-asan: $(EXT_ASAN) $(EXT_ASAN_PY) $(NATIVE)
	$(Q)for rt in $(ASAN_RUNTIMES); do test -f "$$rt" || \
		{ echo "test-collector-asan: '$(CC)' has no sanitizer runtime '$$rt'"; exit 1; }; done
	$(Q)rm -rf $(EXT_ASAN_LOG) && mkdir -p $(EXT_ASAN_LOG)
	$(Q)$(COLLECTOR_ASAN_ENV) $(PYTHON) -c 'import os, sys, plop._collector as c; \
		sys.exit(0 if os.path.realpath(c.__file__) == os.path.realpath(sys.argv[1]) \
		else "test-collector-asan: loaded %r, not the ASan build" % c.__file__)' $(EXT_ASAN) && \
	PLOP_NATIVE_DIR=$(abspath $(NATIVE_DIR)) $(COLLECTOR_ASAN_ENV) \
		$(PYTHON) tests/python/run.py tests/python; rc=$$?; \
	if [ -n "$$(ls -A $(EXT_ASAN_LOG))" ]; then \
		cat $(EXT_ASAN_LOG)/*; \
		echo "test-collector-asan: sanitizer reports in '$(EXT_ASAN_LOG)'"; exit 1; \
	fi; exit $$rc

test-frames-public: $(EXT_PUBLIC) $(EXT_PUBLIC_PY)
	$(Q)PYTHONPATH=$(abspath $(EXT_PUBLIC_PKG)) $(PYTHON) -c 'import sys, plop._collector as c; \
		sys.exit(0 if c.frame_reader == "public-api" \
		else "test-frames-public: loaded the %r reader" % c.frame_reader)' && \
	PYTHONPATH=$(abspath $(EXT_PUBLIC_PKG)) $(PYTHON) tests/python/run.py \
		tests/python/test_collector.py

test-matrix:
	$(Q)PYTHON=$(PYTHON) sh tests/run-matrix $(PYTHONS)

# Comparisons and budgets: profiles made by the collector of $(PYTHON).
test-diff: $(B)/plop-render $(EXT)
	$(Q)$(PYTHON) tests/diff/run.py --binary $(B)/plop-render --python $(PYTHON)

# CPython's own regression tests (signals, timers, EINTR, selectors,
# asyncio, threads), plainly and under each mode: tests/foreign/run.py.
# test-long adds the slow ones (io, subprocess, multiprocessing).
test-foreign: $(EXT)
	$(Q)PYTHONPATH=collector $(PYTHON) tests/foreign/run.py

test-long: $(EXT)
	$(Q)PYTHONPATH=collector $(PYTHON) tests/foreign/run.py --long

# The same under ASan+UBSan (leaks checked, as in test-render-asan).
test-diff-asan: $(A)/plop-render $(EXT)
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0 \
		LSAN_OPTIONS=suppressions=$(abspath tests/render/lsan.supp):print_suppressions=0 \
		$(PYTHON) tests/diff/run.py --binary $(A)/plop-render --python $(PYTHON)

test-viewer: all
	$(Q)PLOP_RENDER=$(abspath $(B))/plop-render PYTHONPATH=collector \
		$(PYTHON) tests/python/run.py tests/viewer

test-browser: $(B)/plop-render
	$(Q)sh tests/browser/run $(B)/plop-render

# pprof files checked by the real `go tool pprof` (golang-go), round trips.
test-interop: $(B)/plop-render
	$(Q)PLOP_RENDER=$(abspath $(B))/plop-render \
		$(PYTHON) tests/python/run.py tests/interop

# ---------------------------------------------------------------- fuzzing
$(B)/fuzz/fuzz_render: tests/fuzz/fuzz_render.c $(RENDER_LIB_SRCS) $(B)/gen/templates.c
	$(call say,FUZZ,$@)
	@mkdir -p $(@D)
	$(Q)$(CLANG) -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $(GV_CFLAGS) -Irender -I$(B)/gen -o $@ $^ $(RENDER_LIBS)

fuzz: $(B)/fuzz/fuzz_render
	$(Q)sh tests/fuzz/run $(B)/fuzz/fuzz_render $(FUZZ_SECONDS)

test-fuzz: $(B)/fuzz/fuzz_render
	$(Q)sh tests/fuzz/run $(B)/fuzz/fuzz_render $(FUZZ_SECONDS)

# ---------------------------------------------------------------- benchmarks
bench: bench-collector bench-render

bench-collector: $(EXT)
	$(Q)PYTHONPATH=collector $(PYTHON) bench/bench_collector.py
	$(Q)PYTHONPATH=collector $(PYTHON) bench/bench_flush.py

# bench_report.py drives Chromium (playwright-core from tests/browser).
bench-render: $(B)/plop-render
	$(Q)$(PYTHON) bench/bench_render.py --binary $(B)/plop-render
	$(Q)$(PYTHON) bench/bench_formats.py --binary $(B)/plop-render
	$(Q)sh .ci/install-deps
	$(Q)$(PYTHON) bench/bench_report.py --binary $(B)/plop-render

# ---------------------------------------------------------------- demo
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)PLOP_RENDER=$(abspath $(B))/plop-render PYTHON=$(PYTHON) \
		sh demo/create_profile.sh

clean:
	rm -rf $(B) collector/plop/_collector*.so

-include $(shell find $(B) -name '*.d' 2>/dev/null)
