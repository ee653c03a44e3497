#!/usr/bin/env bash
# End-to-end check of board + firmware with the hand-written stand-in model:
# lays out output folders the way the generator does, builds and runs every
# toolchain/optimisation combination in training and verify mode, and
# checks that all combinations print the same protocol output (instruction
# and cycle counts aside, which legitimately differ between compilers).
#
# usage: firmware/tests/run-standin.sh [BOARD]   (default qemu-virt-rv32)
# KEEP=1 keeps the temporary folder.  Needs the toolchain/install.sh tools.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
board=${1:-qemu-virt-rv32}
board_dir=$root/boards/$board
CLANG=${CLANG:-clang-19}

tmp=$(mktemp -d)
if [ "${KEEP:-0}" = 1 ]; then echo "keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

# board.mk as the generator writes it from board.json (python3 only to read
# JSON here; the C# generator does this for real).
board_mk() {
    python3 - "$board_dir/board.json" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
q = b["qemu"]
cpu = ",".join([q["cpu"]] + q.get("cpu_options", []))
print("# generated from board.json")
print(f"MARCH = {b['march']}")
print(f"MABI = {b['abi']}")
print(f"PICOLIBC_MULTILIB = {b['picolibc_multilib']}")
print(f"QEMU = {q['binary']}")
print(f"QEMU_FLAGS = -M {q['machine']} -cpu {cpu} " + " ".join(q.get("extra", [])))
print("LINKER_SCRIPT = board/" + b["linker_script"])
print("STARTUP = board/" + b["startup"])
PY
}

# make_out DIR EXTRA_CFLAGS
make_out() {
    local out=$1
    mkdir -p "$out"
    cp -r "$board_dir" "$out/board"
    cp -r "$root/firmware" "$out/firmware"
    mkdir -p "$out/toolchain" && cp "$root/toolchain/flags.mk" "$out/toolchain/"
    cp "$here"/standin/*.c "$here"/standin/*.h "$out/"
    board_mk >"$out/board.mk"
    cat >"$out/Makefile" <<MK
# stand-in for the generated Makefile
EXTRA_CFLAGS = -Werror $2
include board.mk
include firmware/build.mk
MK
    # What the LLVM IR backend would emit; -disable-O0-optnone keeps the IR
    # optimisable by opt, -ffp-contract=off keeps fmul/fadd separate.
    (cd "$out" && $CLANG --target=riscv32-unknown-elf -march=rv32imafc -mabi=ilp32f \
        -nostdlibinc -isystem /usr/lib/picolibc/riscv64-unknown-elf/include \
        -std=c99 -ffp-contract=off -S -emit-llvm -O0 -Xclang -disable-O0-optnone \
        -o model.ll model.c)
}

combos=("gcc -O0" "gcc -O2" "clang -O2" "clang -O3" "llvm -O2")
status=0

for mode in train verify; do
    out=$tmp/$mode
    if [ $mode = verify ]; then make_out "$out" -DSTANDIN_TRACE_STEPS=10; else make_out "$out" ""; fi
    ref="" ref_name=""
    for combo in "${combos[@]}"; do
        set -- $combo
        tc=$1 opt=$2
        log=$out/build-$tc$opt.log
        if ! make -C "$out" -s TOOLCHAIN=$tc OPT=$opt all >"$log" 2>&1 || [ -s "$log" ]; then
            echo "FAIL $mode $tc $opt: build printed or failed:"; cat "$log"; status=1; continue
        fi
        run_out=$out/run-$tc$opt.txt
        rc=0
        make -C "$out" -s TOOLCHAIN=$tc OPT=$opt run >"$run_out" 2>"$out/run-$tc$opt.err" || rc=$?
        code=$(cat "$out/build/$tc$opt/exit-status")
        if [ "$code" != 0 ] || [ -s "$out/run-$tc$opt.err" ] || [ "$(tail -n1 "$run_out")" != done ]; then
            echo "FAIL $mode $tc $opt: exit $code (make $rc)"; cat "$run_out" "$out/run-$tc$opt.err"; status=1; continue
        fi
        # Mask the counter values: they depend on the generated code.
        sed -E 's/ (instret|cycles|instret_first|instret_min|instret_max|cycles_first) [0-9]+/ \1 N/g' \
            "$run_out" >"$run_out.masked"
        counts=$(grep -m1 -oE '(instret|instret_first) [0-9]+' "$run_out" | head -n1)
        echo "ok   $mode $tc $opt ($counts)"
        if [ -z "$ref" ]; then
            ref=$run_out.masked ref_name="$tc $opt"
        elif ! cmp -s "$ref" "$run_out.masked"; then
            echo "FAIL $mode $tc $opt: output differs from the first combination:"
            diff "$ref" "$run_out.masked" || true
            status=1
        fi
    done
    [ -n "$ref" ] && { echo "--- $mode output ($ref_name):"; cat "${ref%.masked}"; }
done

# Runtime self-test (firmware/tests/selftest): exit codes, trap path, TLS,
# long lines.  "mode exit expected-status" per case.
out=$tmp/train
cases=("0 0 0" "0 3 3" "1 0 130" "2 0 5" "3 0 134")
for tc_opt in "gcc -O0" "gcc -O2" "clang -O2"; do
    set -- $tc_opt
    tc=$1 opt=$2
    for c in "${cases[@]}"; do
        set -- $c
        vars=(TOOLCHAIN=$tc OPT=$opt HARNESS=firmware/tests/selftest/selftest.c
              "EXTRA_CFLAGS=-Werror -DSELFTEST_MODE=$1 -DSELFTEST_EXIT=$2")
        if ! make -C "$out" -s "${vars[@]}" all >"$out/st.log" 2>&1 || [ -s "$out/st.log" ]; then
            echo "FAIL selftest $tc $opt mode $1: build"; cat "$out/st.log"; status=1; continue
        fi
        make -C "$out" -s "${vars[@]}" run >"$out/st.txt" 2>/dev/null || true
        code=$(cat "$out/build/$tc$opt/exit-status")
        ok=1
        [ "$code" = "$3" ] || ok=0
        case $1 in
        0) grep -qx 'selftest ok' "$out/st.txt" || ok=0
           # 9 + 250 * 8 characters, streamed through several buffer flushes.
           [ "$(grep '^longline ' "$out/st.txt" | awk '{print length($0)}')" = 2009 ] || ok=0 ;;
        1) grep -qx 'partial line before trap' "$out/st.txt" || ok=0
           grep -qE '^trap 2 [0-9a-f]{8} 00000000$' "$out/st.txt" || ok=0 ;;
        esac
        if [ $ok = 1 ]; then
            echo "ok   selftest $tc $opt mode $1 -> exit $code"
        else
            echo "FAIL selftest $tc $opt mode $1: exit $code, expected $3"; cat "$out/st.txt"; status=1
        fi
    done
done

if [ $status = 0 ]; then echo "standin: all combinations identical, selftest passed"; fi
exit $status
