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

# ---- tools (override on the command line or in the Makefile) ----
CLANG ?= clang-19
GCC ?= riscv64-unknown-elf-gcc
LLVM_OPT ?= opt-19
LLC ?= llc-19
QEMU ?= qemu-system-riscv32
TIMEOUT ?= timeout
RUN_TIMEOUT ?= 600

PICOLIBC_ROOT ?= /usr/lib/picolibc/riscv64-unknown-elf
PICOLIBC_INCLUDE ?= $(PICOLIBC_ROOT)/include
# Explicit multilib directories: GCC's own multilib matching needs an exact
# -march match and silently falls back to rv64 libraries otherwise.
PICOLIBC_LIB_DIR ?= $(PICOLIBC_ROOT)/lib/$(PICOLIBC_MULTILIB)
GCC_LIB_ROOT ?= /usr/lib/gcc/riscv64-unknown-elf/12.2.0
LIBGCC_DIR ?= $(GCC_LIB_ROOT)/$(PICOLIBC_MULTILIB)

# ---- sources ----
HARNESS ?= firmware/harness.c
RUNTIME_SRCS ?= firmware/semihost.c firmware/print.c firmware/trap.c
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

XLEN := $(if $(filter rv64%,$(MARCH)),64,32)
TRIPLE := riscv$(XLEN)-unknown-elf

# llc -mattr from MARCH: single-letter extensions after rv32i/rv32e
# (g = imafd), then each _-separated multi-letter extension.
MARCH_PARTS := $(subst _, ,$(MARCH))
MARCH_BASE := $(patsubst rv32%,%,$(patsubst rv64%,%,$(firstword $(MARCH_PARTS))))
MARCH_BASE := $(subst g,imafd,$(MARCH_BASE))
empty :=
comma := ,
space := $(empty) $(empty)
LLC_MATTR ?= $(subst $(space),$(comma),$(strip \
    $(foreach x,m a f d c v,$(if $(findstring $(x),$(MARCH_BASE)),+$(x))) \
    $(addprefix +,$(wordlist 2,$(words $(MARCH_PARTS)),$(MARCH_PARTS)))))

# ---- per-toolchain flags ----
ifeq ($(TOOLCHAIN),gcc)
CC := $(GCC)
TARGET_FLAGS := -march=$(MARCH) -mabi=$(MABI)
SYSTEM_INCLUDES := -isystem $(PICOLIBC_INCLUDE)
LINKER_FLAGS :=
C_OPT := $(OPT)
else
CC := $(CLANG)
TARGET_FLAGS := --target=$(TRIPLE) -march=$(MARCH) -mabi=$(MABI)
# Only picolibc's headers plus clang's own (stddef.h, stdint.h wrapper...).
SYSTEM_INCLUDES := -nostdlibinc -isystem $(PICOLIBC_INCLUDE)
LINKER_FLAGS := -fuse-ld=lld
# For the LLVM backend OPT applies to the model IR; C is always -O2.
C_OPT := $(if $(filter llvm,$(TOOLCHAIN)),-O2,$(OPT))
endif

# -ffp-contract=off: no fused multiply-add unless the source asks for it,
# so every toolchain and the host reference round identically.
# Hosted (not -ffreestanding): keeps sqrtf/memcpy builtins available.
# -ftls-model=local-exec: one static image, so TLS (errno) is addressed
# straight from tp, without GOT entries.
CFLAGS := -std=c99 -Wall -Wextra -ffp-contract=off -fno-common -g \
    -ffunction-sections -fdata-sections -ftls-model=local-exec \
    $(C_OPT) $(TARGET_FLAGS) \
    $(SYSTEM_INCLUDES) -I. -Ifirmware $(EXTRA_CFLAGS)
ASFLAGS := $(TARGET_FLAGS) -g
# Own startup and linker script (-nostdlib implies -nostartfiles; clang
# warns about the latter as unused); libc for memcpy/memset/math the compilers
# emit calls to, libgcc for soft helpers (64-bit division...).  Console and
# exit are firmware/semihost.c, so picolibc's libsemihost is not needed.
LDFLAGS := $(TARGET_FLAGS) $(LINKER_FLAGS) -static -nostdlib \
    -T $(LINKER_SCRIPT) -Wl,--gc-sections -Wl,-Map=$(BUILD_DIR)/program.map \
    -L$(PICOLIBC_LIB_DIR) -L$(LIBGCC_DIR) $(EXTRA_LDFLAGS)
LDLIBS := -Wl,--start-group -lc -lgcc -Wl,--end-group

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
    $(LLVM_OPT) $(LLC) $(LLC_MATTR) | $(OBJS))
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
	$(LLVM_OPT) $(OPT) -S -o $@ $<

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
