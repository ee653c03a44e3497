# Compiler flags and tool locations for every TinyOdl toolchain (GNU make fragment).
#
# Included by firmware/build.mk; copied into each output folder as toolchain/flags.mk.
# Inputs: TOOLCHAIN (gcc | clang | llvm), OPT, MARCH, MABI, PICOLIBC_MULTILIB, LINKER_SCRIPT, BUILD_DIR.
# Outputs: CC, CFLAGS, ASFLAGS, LDFLAGS, LDLIBS, TRIPLE, LLC_MATTR and the tool variables below.

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
# No auto-vectorization: TinyOdl decides which loops run as SIMD lanes (RVV intrinsics or scalable vectors), so
# instruction counts reflect the kernel IR's choices. It also keeps clear of QEMU 7.2's crash translating
# vfcvt.rtz.x.f.v (QEMU issue 1441), which clang's vectorizer emits for the scalar float-to-int in exp.
NO_AUTOVEC := -fno-vectorize -fno-slp-vectorize
endif
LLVM_OPT_FLAGS := -vectorize-loops=false -vectorize-slp=false

# -ffp-contract=off: no fused multiply-add unless the source asks for it,
# so every toolchain and the host reference round identically.
# Hosted (not -ffreestanding): keeps sqrtf/memcpy builtins available.
# -ftls-model=local-exec: one static image, so TLS (errno) is addressed
# straight from tp, without GOT entries.
# -fno-math-errno: without it clang calls libc's fmaf() for __builtin_fmaf instead of emitting fmadd.s
# (same result, ~10x the instructions); it changes no rounding.
CFLAGS := -std=c99 -Wall -Wextra -ffp-contract=off -fno-math-errno -fno-common -g \
    -ffunction-sections -fdata-sections -ftls-model=local-exec \
    $(C_OPT) $(NO_AUTOVEC) $(TARGET_FLAGS) \
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
