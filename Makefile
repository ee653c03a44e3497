# TinyOdl: `make demo` and `make test` work on a fresh Debian 12 machine with the .NET SDK.
# Both install what is missing first (toolchain/install.sh is idempotent).

DOTNET ?= dotnet
DEMO_DIR ?= build/demo

.PHONY: all build demo test bench toolchain data examples clean

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
# in fp32, fp16 and fp16-mixed on the scalar and SIMD boards; finally train the digits CNN on-device.
demo: toolchain data
	./tinyodl compile examples/digits-mlp.json --board qemu-virt-rv32 --backend c -o $(DEMO_DIR)/digits-mlp-c
	./tinyodl run $(DEMO_DIR)/digits-mlp-c
	./tinyodl compile examples/digits-mlp.json --board qemu-virt-rv32 --backend llvm -o $(DEMO_DIR)/digits-mlp-llvm
	./tinyodl run $(DEMO_DIR)/digits-mlp-llvm
	./tinyodl verify examples/digits-mlp.json --board qemu-virt-rv32
	./tinyodl sweep examples/digits-mlp.json
	./tinyodl compile examples/digits-cnn.json --board qemu-virt-rv32 -o $(DEMO_DIR)/digits-cnn
	./tinyodl run $(DEMO_DIR)/digits-cnn
	./tinyodl compile examples/digits-bnn.json --board qemu-virt-rv32-zbb -o $(DEMO_DIR)/digits-bnn
	./tinyodl run $(DEMO_DIR)/digits-bnn

# Every program the tests run under QEMU also runs on TinyOdl's simulator (tests/.../Support/SimulatorCheckSetting.cs);
# the last line sums up those comparisons.
test: toolchain data
	$(DOTNET) test TinyOdl.sln -c Release -nologo
	@for log in tests/TinyOdl.Tests/bin/Release/*/simulator-checks.tsv; do [ -f "$$log" ] && awk -F'\t' \
	  '{ n++; i += $$3; if ($$1 != "agree") bad++ } END { printf "Simulator vs QEMU: %d program runs compared (stdout, exit status, retired instructions), %d disagree, %.0f instructions simulated\n", n, bad, i }' "$$log"; done; true

# The reference networks as ONNX, exported by TinyOdl itself from their JSON (a test checks these files are
# byte-identical to a fresh export, so they never go stale: after changing the JSON or the exporter, run this).
examples:
	./tinyodl export examples/resnet8.json -o examples/resnet8.onnx
	./tinyodl export examples/ds-cnn.json -o examples/ds-cnn.onnx

# Instruction counts per pass, fp32/fp16 scalar/SIMD (bench/RESULTS.md).
bench: toolchain data
	bench/fp16-simd.sh

clean:
	rm -rf build */*/bin */*/obj
