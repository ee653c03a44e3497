# TinyOdl: `make demo` and `make test` work on a fresh Debian 12 machine with the .NET SDK.
# Both install what is missing first (toolchain/install.sh is idempotent).

DOTNET ?= dotnet
DEMO_DIR ?= build/demo

.PHONY: all build demo test bench toolchain data clean

all: build

toolchain:
	@bash toolchain/install.sh

data/digits.csv.gz:
	@bash toolchain/fetch-digits.sh data

data: data/digits.csv.gz

build:
	$(DOTNET) build TinyOdl.sln -c Release -nologo -v quiet

# Generate training code for the digits MLP (C and LLVM IR backends), train it on-device under QEMU,
# check the results bit for bit against the C# evaluator, verify all toolchain combinations, then train it
# in fp32, fp16 and fp16-mixed on the scalar and SIMD boards.
demo: toolchain data
	./tinyodl compile examples/digits-mlp.json --board qemu-virt-rv32 --backend c -o $(DEMO_DIR)/digits-mlp-c
	./tinyodl run $(DEMO_DIR)/digits-mlp-c
	./tinyodl compile examples/digits-mlp.json --board qemu-virt-rv32 --backend llvm -o $(DEMO_DIR)/digits-mlp-llvm
	./tinyodl run $(DEMO_DIR)/digits-mlp-llvm
	./tinyodl verify examples/digits-mlp.json --board qemu-virt-rv32
	./tinyodl sweep examples/digits-mlp.json

test: toolchain data
	$(DOTNET) test TinyOdl.sln -c Release -nologo

# Instruction counts per pass, fp32/fp16 scalar/SIMD (bench/RESULTS.md).
bench: toolchain data
	bench/fp16-simd.sh

clean:
	rm -rf build */*/bin */*/obj
