# Build and run rules for one generated program (GNU make fragment).
#
# Included by the generated Makefile of an output folder, after board.mk:
#
#   Makefile        sets variables, includes board.mk and firmware/build.mk
#   board.mk        MARCH MABI PICOLIBC_MULTILIB QEMU_FLAGS LINKER_SCRIPT STARTUP
#   board/          the board's link.ld and startup.S
#   firmware/       this folder
#   model.c | model.ll, model.h, dataset.c, dataset.h
#
# make [all|run|clean|qemu-cmd] [TOOLCHAIN=gcc|clang|llvm] [OPT=-O0|-O2|-O3]
# Several TOOLCHAIN/OPT combinations coexist under build/$(TOOLCHAIN)$(OPT)/.
# See firmware/README.md for every variable.

.DEFAULT_GOAL := all

# Everything read so far (Makefile, board.mk, this file): objects depend on
# it so that a changed configuration rebuilds.
CONFIG_FILES := $(MAKEFILE_LIST)

TOOLCHAIN ?= clang
OPT ?= -O2

# ---- sources ----
HARNESS ?= firmware/harness.c
RUNTIME_SRCS ?= firmware/semihost.c firmware/print.c firmware/trap.c firmware/profile.c
DATASET_SRC ?= dataset.c
MODEL_C ?= model.c
MODEL_LL ?= model.ll
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

# ---- checks ----
ifeq ($(strip $(MARCH)),)
$(error MARCH is not set: include board.mk before firmware/build.mk)
endif
ifeq ($(filter gcc clang llvm,$(TOOLCHAIN)),)
$(error TOOLCHAIN must be gcc, clang or llvm, not '$(TOOLCHAIN)')
endif
ifeq ($(filter -O0 -O1 -O2 -O3 -Os -Oz,$(OPT)),)
$(error OPT must be one of -O0 -O1 -O2 -O3 -Os -Oz, not '$(OPT)')
endif

BUILD_DIR := build/$(TOOLCHAIN)$(OPT)
ELF := $(BUILD_DIR)/program.elf

# Compilers, their flags and the library paths: one place for every output folder.
include toolchain/flags.mk

C_SRCS := $(HARNESS) $(RUNTIME_SRCS) $(DATASET_SRC)
ifeq ($(TOOLCHAIN),llvm)
MODEL_OBJ := $(BUILD_DIR)/model_ll.o
else
C_SRCS += $(MODEL_C)
MODEL_OBJ :=
endif
OBJS := $(addprefix $(BUILD_DIR)/,$(C_SRCS:.c=.o)) \
    $(BUILD_DIR)/startup.o $(MODEL_OBJ)

# Flags given on the command line (EXTRA_CFLAGS=..., HARNESS=...) are not in
# any file make can date, so record the effective settings in
# $(BUILD_DIR)/settings and rewrite it only when they change: everything
# depends on it and rebuilds exactly then.
SETTINGS_FILE := $(BUILD_DIR)/settings
SETTINGS := $(strip $(CC) $(CFLAGS) | $(ASFLAGS) | $(LDFLAGS) $(LDLIBS) | \
    $(LLVM_OPT) $(LLVM_OPT_FLAGS) $(LLC) $(LLC_MATTR) | $(OBJS))
ifeq ($(filter clean qemu-cmd,$(MAKECMDGOALS)),)
ifneq ($(SETTINGS),$(strip $(file <$(SETTINGS_FILE))))
$(shell mkdir -p $(BUILD_DIR))
$(file >$(SETTINGS_FILE),$(SETTINGS))
endif
endif
BUILD_DEPS := $(CONFIG_FILES) $(SETTINGS_FILE)

# ---- rules ----
.PHONY: all run clean qemu-cmd
all: $(ELF)

$(ELF): $(OBJS) $(LINKER_SCRIPT) $(BUILD_DEPS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD_DIR)/%.o: %.c $(BUILD_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD_DIR)/startup.o: $(STARTUP) $(BUILD_DEPS)
	@mkdir -p $(@D)
	$(CC) $(ASFLAGS) -c -o $@ $<

# LLVM backend: reject invalid IR first (opt would otherwise fail later
# with a less direct message), then optimise and compile the model alone.
$(BUILD_DIR)/model.opt.ll: $(MODEL_LL) $(BUILD_DEPS)
	@mkdir -p $(@D)
	$(LLVM_OPT) -passes=verify -disable-output $<
	$(LLVM_OPT) $(OPT) $(LLVM_OPT_FLAGS) -S -o $@ $<

$(BUILD_DIR)/model_ll.o: $(BUILD_DIR)/model.opt.ll
	$(LLC) $(OPT) -mtriple=$(TRIPLE) -mattr=$(LLC_MATTR) -target-abi=$(MABI) \
	    -filetype=obj -o $@ $<

# Program output on stdout; QEMU's exit status is the program's exit status
# (124 if the timeout hit).  make itself can only exit 0 or 2, so the status
# is also written to $(BUILD_DIR)/exit-status; `make -s qemu-cmd` prints the
# command for callers that want to run QEMU themselves.
QEMU_RUN = $(TIMEOUT) $(RUN_TIMEOUT) $(QEMU) $(QEMU_FLAGS) \
    -display none -monitor none -serial none -icount shift=0 \
    -chardev stdio,id=console \
    -semihosting-config enable=on,target=native,chardev=console \
    -kernel $(ELF)

run: $(ELF)
	@$(QEMU_RUN) </dev/null; status=$$?; echo $$status >$(BUILD_DIR)/exit-status; exit $$status

qemu-cmd:
	@echo '$(QEMU_RUN)'

clean:
	rm -rf build

-include $(OBJS:.o=.d)
