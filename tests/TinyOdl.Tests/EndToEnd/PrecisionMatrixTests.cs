using System.Globalization;
using System.Text;
using TinyOdl.Codegen.C;
using TinyOdl.Codegen.Llvm;
using TinyOdl.Evaluation;
using TinyOdl.Graph;
using TinyOdl.Kernels;
using TinyOdl.Numerics;
using TinyOdl.Targets;
using Xunit.Abstractions;

namespace TinyOdl.Tests.EndToEnd;

/// <summary>
/// Real compilers, real QEMU, every precision policy: every model of <see cref="PrecisionMatrix"/> with every policy
/// on qemu-virt-rv32-zfh and on qemu-virt-rv32-zvfh with VLEN 128 and 256, built with every toolchain combination
/// that can build it, must reproduce the C# evaluator bit for bit and build without a warning. Vector boards must
/// really get vector code, scalar boards none.
/// </summary>
public sealed class PrecisionMatrixTests(PrecisionMatrixFixture fixture, ITestOutputHelper output) : IClassFixture<PrecisionMatrixFixture>
{
    public static IEnumerable<object[]> BuildableCombos() => PrecisionMatrixFixture.BuildableCombos();
    public static IEnumerable<object[]> Variants() => PrecisionMatrixFixture.Variants4();
    public static IEnumerable<object[]> BuiltCombos() => PrecisionMatrixFixture.BuiltCombos();
    public static IEnumerable<object[]> BuiltVariants() => PrecisionMatrixFixture.BuiltVariants();

    public static IEnumerable<object[]> ModelsAndPolicies() =>
        from c in PrecisionMatrix.All from p in c.Policies select new object[] { c.Name, p };

    public static IEnumerable<object[]> Models() => PrecisionMatrix.All.Select(c => new object[] { c.Name });

    // ---------------------------------------------------------------- bit-exactness and clean builds

    [Theory]
    [MemberData(nameof(BuildableCombos))]
    public void Device_output_is_bit_exact_against_the_evaluator(string model, string target, string policy, string combo)
    {
        var outcome = fixture.Outcome(model, target, policy, combo);
        var where = $"{model} ({policy}) on {target} with {outcome.Combo.Name}";
        Assert.True(outcome.Error is null, $"{where}: {outcome.Error}");
        Assert.True(outcome.WerrorExitCode == 0, $"{where}: the build failed (see the -Werror test):\n{Tail(outcome.WerrorOutput)}");
        var run = outcome.Run!;
        Assert.True(run.Succeeded,
            $"{where}: program failed with exit status {run.ExitCode}\nstdout:\n{Tail(run.Stdout)}\nstderr:\n{Tail(run.Stderr)}");

        var expected = fixture.Variant(model, target, policy).Expected;
        var mismatches = Protocol.Compare(expected, run.Lines);
        Assert.True(mismatches.Count == 0,
            $"{where}: {mismatches.Count} mismatches against the C# evaluator:\n  " + string.Join("\n  ", mismatches.Take(20)));
    }

    /// <summary>Every build (zvfh256 runs zvfh128's builds, see <see cref="PrecisionMatrixFixture"/>).</summary>
    [Theory]
    [MemberData(nameof(BuiltCombos))]
    public void Generated_program_builds_warning_free_with_Werror(string model, string target, string policy, string combo)
    {
        var outcome = fixture.Outcome(model, target, policy, combo);
        Assert.True(outcome.WerrorExitCode == 0,
            $"{model} ({policy}) on {target}: `make TOOLCHAIN={outcome.Combo.Toolchain} OPT={outcome.Combo.Opt} EXTRA_CFLAGS=-Werror all` " +
            $"exited {outcome.WerrorExitCode}:\n{Tail(outcome.WerrorOutput)}");
        // Warnings -Werror does not turn into errors (linker, opt, llc) must not appear either.
        Assert.DoesNotContain("warning", outcome.WerrorOutput, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void GCC_is_skipped_exactly_for_programs_with_binary16_or_vector_kernels(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        var program = v.Compiled!.Program;
        Assert.Equal(policy != "fp32", program.UsesHalf);
        Assert.Equal(v.Target.IsVector, program.UsesLanes);
        foreach (var combo in BuildCombo.All)
        {
            var key = PrecisionMatrixFixture.Key(combo);
            bool expectBuilt = PrecisionMatrixFixture.ExpectBuildable(v.Target, policy, combo);
            Assert.True(expectBuilt == v.Combos.ContainsKey(key),
                $"{v.Key}: {combo.Name} was {(v.Combos.ContainsKey(key) ? "built" : $"skipped ({v.Skipped.GetValueOrDefault(key)})")}, expected it to be {(expectBuilt ? "built" : "skipped")}");
            if (!expectBuilt)
                Assert.Equal(program.UsesHalf ? "GCC 12 has no _Float16 for RISC-V" : "GCC 12 has no RVV 1.0 intrinsics and rejects -march with zvfh", v.Skipped[key]);
        }
    }

    /// <summary>The skips are not hiding anything: GCC 12 really fails on these programs (remove the skip when it stops failing).</summary>
    [Theory]
    [InlineData("zfh", "fp16", "'_Float16' is not supported on this target")]
    [InlineData("zvfh128", "fp32", "zvfh")]
    public void GCC_12_really_cannot_build_the_skipped_programs(string target, string policy, string message)
    {
        var v = fixture.Variant("lin1_7x3_mse_sgd", target, policy);
        var dir = fixture.FolderOf(v, Backend.C);
        var r = QemuRunner.Exec("make", $"-C \"{dir}\" -s TOOLCHAIN=gcc OPT=-O2 all");
        Assert.NotEqual(0, r.Code);
        Assert.Contains(message, r.Stdout + r.Stderr);
    }

    // ---------------------------------------------------------------- vector code where it belongs

    [Theory]
    [MemberData(nameof(Variants))]
    public void Vector_boards_get_RVV_kernels_and_scalar_boards_none(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        string c = v.ModelC, ll = v.ModelLl;
        if (v.Target.IsVector)
        {
            Assert.Contains("riscv_vector.h", c);
            Assert.Contains("_rvv_", c); // vector kernels are named *_rvv_*
            Assert.Contains("@llvm.vp.load", ll);
            Assert.True(Calls(ll, "@llvm.vp.load."), "no call of @llvm.vp.load");
            Assert.True(Calls(ll, "@llvm.vp.store."), "no call of @llvm.vp.store");
            Assert.True(Calls(ll, "@llvm.experimental.get.vector.length."), "no call of @llvm.experimental.get.vector.length");
            switch (policy)
            {
                case "fp32":
                    Assert.Contains("__riscv_vsetvl_e32m2", c);
                    Assert.Contains("__riscv_vfmacc_vf_f32m2", c);
                    Assert.DoesNotContain("vfwmacc", c);
                    Assert.DoesNotContain("_Float16", c);
                    Assert.DoesNotContain("call <vscale x 4 x half>", ll);
                    Assert.True(Calls(ll, "@llvm.fma.nxv4f32"), "no vector binary32 fma");
                    break;
                case "fp16":
                    // binary16 accumulation: the multiply-adds are binary16 vector FMAs, never widening ones.
                    Assert.Contains("__riscv_vsetvl_e16m2", c);
                    Assert.Contains("__riscv_vfmacc_vf_f16m2", c);
                    Assert.DoesNotContain("vfwmacc", c);
                    Assert.Contains("call <vscale x 8 x half> @llvm.vp.load", ll);
                    Assert.True(Calls(ll, "@llvm.fma.nxv8f16"), "no vector binary16 fma");
                    break;
                case "fp16-mixed":
                    // binary32 accumulation of binary16 products: widening multiply-adds in the Linear kernels.
                    Assert.Contains("__riscv_vsetvl_e16m2", c);
                    Assert.Contains("__riscv_vfwmacc_vf_f32m4", c);
                    Assert.DoesNotContain("__riscv_vfmacc_vf_f16m2", c);
                    Assert.Contains("call <vscale x 8 x half> @llvm.vp.load", ll);
                    Assert.True(Calls(ll, "@llvm.fma.nxv8f32"), "no vector binary32 fma");
                    Assert.False(Calls(ll, "@llvm.fma.nxv8f16"), "fp16-mixed must not accumulate in binary16");
                    break;
                default: // per layer: a bit of everything, and vectorized conversions
                    Assert.Contains("__riscv_vsetvl_e32m2", c);
                    Assert.Contains("__riscv_vsetvl_e16m2", c);
                    Assert.Contains("__riscv_vfmacc_vf_f32m2", c);
                    Assert.Contains("__riscv_vfmacc_vf_f16m2", c);
                    Assert.Contains("__riscv_vfwmacc_vf_f32m4", c);
                    Assert.Contains("__riscv_vfncvt_f_f_w_f16m2", c);
                    Assert.Contains("__riscv_vfwcvt_f_f_v_f32m4", c);
                    Assert.True(Calls(ll, "@llvm.fma.nxv8f16") && Calls(ll, "@llvm.fma.nxv4f32"), "per-layer precisions need both vector fmas");
                    break;
            }
        }
        else
        {
            foreach (var vectorish in new[] { "riscv_vector.h", "__riscv_v", "vsetvl", "vfmacc", "vfwmacc", "_rvv_" })
                Assert.DoesNotContain(vectorish, c);
            foreach (var vectorish in new[] { "@llvm.vp.", "vscale", "get.vector.length", "_rvv_" })
                Assert.DoesNotContain(vectorish, ll);
            Assert.Equal(policy != "fp32", c.Contains("_Float16", StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_scalar_fp32_board_gets_no_vector_code(string model)
    {
        var c = PrecisionMatrix.Get(model);
        var policy = c.Policies.Contains("fp32") ? "fp32" : null;
        if (policy is null)
        {
            // Binary16 layers are refused on a board without Zfh (the CLI tests check the message).
            var e = Assert.Throws<TinyOdlException>(() => Pipeline.Compile(c.Build(c.Policies[0]), Board.Load(PrecisionMatrix.ScalarFp32Board)));
            Assert.Contains("Zfh", e.Message);
            return;
        }
        var program = Pipeline.Compile(c.Build(policy), Board.Load(PrecisionMatrix.ScalarFp32Board)).Program;
        Assert.False(program.UsesLanes);
        Assert.False(program.UsesHalf);
        var code = CBackend.EmitModel(program);
        var ir = LlvmBackend.EmitModel(program);
        foreach (var vectorish in new[] { "riscv_vector.h", "__riscv_v", "vsetvl", "vfmacc", "_Float16", "_rvv_" })
            Assert.DoesNotContain(vectorish, code);
        foreach (var vectorish in new[] { "@llvm.vp.", "vscale", "load half", "store half", "call half" })
            Assert.DoesNotContain(vectorish, ir);
    }

    /// <summary>
    /// The sizes are chosen so that strip-mining ends in a partial strip. Lanes per strip (VLMAX), the same in both
    /// backends: VLEN/8 for loops that touch binary16 (binary16 at LMUL 2), VLEN/16 for binary32-only loops (LMUL 2).
    /// Some lanes loop of every vector variant has a trip count VLMAX does not divide, and (except in the 1x1 model)
    /// some loop needs more than one strip at VLEN 128.
    /// </summary>
    [Theory]
    [MemberData(nameof(Variants))]
    public void Vector_loops_have_partial_strips(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        if (!v.Target.IsVector) return;
        var loops = (from k in v.Compiled!.Program.Kernels
                     from f in IrWalker.Statements(k.Body).OfType<For>()
                     // Loops over a window's inside have bounds known only at run time; the others have constant ones.
                     where f.Lanes && f.From is IntConst && f.To is IntConst
                     let trip = ((IntConst)f.To).Value - ((IntConst)f.From).Value
                     let c = v.Board!.Vlen / (new LaneAnalysis(f).HasHalf ? 8 : 16)
                     select (Kernel: k.Name, Trip: trip, C: c, Llvm: c)).ToArray();
        output.WriteLine(string.Join("\n", loops.Select(l => $"{l.Kernel}: {l.Trip} iterations, {l.C} lanes per strip in C, {l.Llvm} in LLVM IR")));
        Assert.NotEmpty(loops);
        Assert.Contains(loops, l => l.Trip % l.C != 0);
        Assert.Contains(loops, l => l.Trip % l.Llvm != 0);
        if (model != "lin1_1x1_mse_momentum" && v.Target.Key == "zvfh128")
        {
            Assert.Contains(loops, l => l.Trip > l.C && l.Trip % l.C != 0);
            Assert.Contains(loops, l => l.Trip > l.Llvm && l.Trip % l.Llvm != 0);
        }
    }

    /// <summary>The disassembled ELF, not only the source: vector boards execute vector instructions.</summary>
    [Theory]
    [MemberData(nameof(BuiltVariants))]
    public void The_built_program_executes_the_expected_instructions(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        foreach (var comboKey in new[] { "clang-O2", "llvm-O2" })
        {
            var combo = PrecisionMatrixFixture.Combo(comboKey);
            var elf = Path.Combine(fixture.FolderOf(v, combo.Backend), combo.BuildDirectory, "program.elf");
            Assert.True(File.Exists(elf), $"{v.Key}: {elf} was not built");
            var dis = QemuRunner.Exec("llvm-objdump-19", $"-d --no-show-raw-insn --mattr=+m,+a,+f,+d,+c,+v,+zfh,+zvfh \"{elf}\"");
            Assert.True(dis.Code == 0, $"llvm-objdump-19 failed: {dis.Stderr}");
            var text = dis.Stdout;
            var where = $"{v.Key} {comboKey}";
            if (v.Target.IsVector)
            {
                // vsetivli: clang's form when the element count is a small constant (the 1x1 model).
                Assert.True(text.Contains("vsetvli", StringComparison.Ordinal) || text.Contains("vsetivli", StringComparison.Ordinal), $"{where}: no vsetvli in the program");
                Assert.True(text.Contains("vfmacc.v", StringComparison.Ordinal) || text.Contains("vfmadd.v", StringComparison.Ordinal)
                    || text.Contains("vfwmacc.v", StringComparison.Ordinal), $"{where}: no vector multiply-add in the program");
                if (policy == "fp16-mixed" && combo.Backend == Backend.C)
                    Assert.True(text.Contains("vfwmacc.vf", StringComparison.Ordinal), $"{where}: no vfwmacc.vf (widening multiply-add)");
            }
            else
            {
                foreach (var insn in new[] { "vsetvli", "vsetivli", "vle16.v", "vle32.v", "vfmacc", "vfwmacc" })
                    Assert.False(text.Contains(insn, StringComparison.Ordinal), $"{where}: scalar board program contains {insn}");
                if (policy == "fp16")
                    Assert.True(text.Contains("fmadd.h", StringComparison.Ordinal), $"{where}: fp16 on Zfh should use fmadd.h");
                if (policy == "fp16-mixed")
                {
                    Assert.True(text.Contains("fcvt.s.h", StringComparison.Ordinal), $"{where}: fp16-mixed widens with fcvt.s.h");
                    Assert.True(text.Contains("fmadd.s", StringComparison.Ordinal), $"{where}: fp16-mixed accumulates with fmadd.s");
                }
            }
        }
    }

    // ---------------------------------------------------------------- the evaluator's side

    [Theory]
    [MemberData(nameof(ModelsAndPolicies))]
    public void Expected_output_does_not_depend_on_the_board_or_the_vector_length(string model, string policy)
    {
        var variants = PrecisionMatrix.Get(model).Targets.Select(t => fixture.Variant(model, t.Key, policy)).ToArray();
        var reference = variants[0].Expected.Select(l => l.ToString()).ToArray();
        Assert.NotEmpty(reference);
        foreach (var v in variants.Skip(1))
            Assert.True(reference.SequenceEqual(v.Expected.Select(l => l.ToString())),
                $"{model} ({policy}): the evaluator's expected output on {v.Target} differs from {variants[0].Target}");

        if (policy == "fp32")
        {
            // The same bits as on the fp32-only board, and as ModelMatrix's own builder of this shape.
            var scalar = Pipeline.Compile(PrecisionMatrix.Get(model).Build("fp32"), Board.Load(PrecisionMatrix.ScalarFp32Board));
            var plan = PrecisionMatrix.Get(model).Data.Plan();
            Assert.Equal(reference, HarnessSimulator.Run(scalar.Program, plan).Select(l => l.ToString()));
            // Models mirrored from ModelMatrix (the CNNs exist only here).
            if (ModelMatrix.All.SingleOrDefault(c => c.Name == model) is { } mirrored)
            {
                var original = Pipeline.Compile(mirrored.Build(), Board.Load(PrecisionMatrix.ScalarFp32Board));
                Assert.Equal(reference, HarnessSimulator.Run(original.Program, plan).Select(l => l.ToString()));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Parameters_are_stored_and_printed_in_the_layers_precision(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        var m = v.Compiled!.Model;
        foreach (var node in m.Nodes)
        {
            var expectedPrecision = v.Case.IsPerLayer ? node.Precision : PrecisionExtensions.Parse(policy, "policy");
            Assert.Equal(expectedPrecision, node.Precision);
        }
        foreach (var p in v.Compiled.Program.Parameters)
        {
            var node = m.Nodes.Single(n => n.Inputs.Any(i => i.Kind == ValueKind.Parameter && i.Name == p.Name));
            var storage = node.Precision.Storage() == DataType.Float16 ? ScalarType.F16 : ScalarType.F32;
            Assert.Equal(storage, p.Buffer.Element);
            var line = v.Expected.Single(l => l.Keyword == "param" && l.Fields[0] == p.Name);
            Assert.All(line.Fields.Skip(2), hex => Assert.Equal(storage == ScalarType.F16 ? 4 : 8, hex.Length));
            // Kernel names carry the layer's tag (a PHM layer builds W, then runs the ordinary layer's kernels, or
            // runs the factored kernels).
            bool factored = node is PhmLayerNode && v.Compiled.Program.TrainStep.Calls.Any(c => c.Comment == node.Name + "_mix");
            string op = node switch { PhmLayerNode when factored => "phm", PhmLinearNode => "linear", PhmConv2dNode => "conv2d", _ => node.OpName };
            Assert.Contains(factored ? $"phm_forward_factored_{node.Precision.KernelTag()}_" : $"{op}_{node.Precision.KernelTag()}_forward", v.ModelC);
            if (node is PhmLayerNode && !factored) Assert.Contains($"phm_build_weight_{node.Precision.KernelTag()}", v.ModelC);
        }
        if (v.Case.IsPerLayer)
        {
            // Values cross between binary32 and binary16 through conversion kernels, in both directions.
            Assert.Contains("convert_f32_to_f16", v.ModelC);
            Assert.Contains("convert_f16_to_f32", v.ModelC);
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Frozen_parameters_come_back_unchanged_and_trained_ones_change(string model, string target, string policy)
    {
        var v = fixture.Variant(model, target, policy);
        var outcome = fixture.Outcome(model, target, policy, "clang-O2");
        Assert.True(outcome.Run is { Succeeded: true }, $"{v.Key}: clang -O2 run failed: {outcome.Error}");
        foreach (var p in v.Compiled!.Model.Parameters)
        {
            var line = outcome.Run!.Lines.Single(l => l.Keyword == "param" && l.Fields[0] == p.Name);
            var initial = p.Initial.Select(f => InitialHex(f, p.Value.Type)).ToArray();
            var final = line.Fields.Skip(2).ToArray();
            Assert.Equal(initial.Length, final.Length);
            if (p.Trainable)
                Assert.False(initial.SequenceEqual(final), $"{v.Key}: trainable parameter {p.Name} did not change");
            else
                Assert.True(initial.SequenceEqual(final), $"{v.Key}: frozen parameter {p.Name} changed on the device");
        }
    }

    private static string InitialHex(float f, DataType type)
    {
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (type != DataType.Float16) return bits.ToString("x8", CultureInfo.InvariantCulture);
        ushort half = Binary16.FromSingle(bits);
        Assert.Equal(bits, Binary16.ToSingle(half)); // initial values of binary16 parameters are exact halves
        return half.ToString("x4", CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("fp16-mixed")]
    public void Range_edge_models_reach_the_edges_of_binary16(string policy)
    {
        var overflow = fixture.Variant(PrecisionMatrix.Overflow, "zvfh128", policy).Expected;
        var losses = overflow.Where(l => l.Keyword == "step").Select(l => l.Field("loss")).ToArray();
        Assert.Equal("7f800000", losses[0]); // +inf: the prediction overflowed binary16
        Assert.All(losses.Skip(1), l => Assert.Equal("7fc00000", l)); // then the canonical binary32 NaN
        Assert.All(overflow.Where(l => l.Keyword == "param"), l => Assert.Contains("7e00", l.Fields.Skip(2))); // canonical binary16 NaN

        var subnormal = fixture.Variant(PrecisionMatrix.Subnormal, "zvfh128", policy).Expected;
        var halves = subnormal.Where(l => l.Keyword == "param").SelectMany(l => l.Fields.Skip(2))
            .Select(h => ushort.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        int subnormals = halves.Count(Binary16.IsSubnormal);
        Assert.True(subnormals >= halves.Length / 2, $"{policy}: only {subnormals} of {halves.Length} final parameters are subnormal");
        Assert.DoesNotContain(subnormal, l => l.Keyword == "step" && !float.IsFinite(l.Float("loss")));
    }

    [Fact]
    public void The_three_policies_give_three_different_but_close_trainings()
    {
        const string model = "mlp2_13x11x7_relu_ce_sgd";
        var losses = PrecisionMatrix.UniformPolicies.ToDictionary(p => p,
            p => fixture.Variant(model, "zfh", p).Expected.Where(l => l.Keyword == "step").Select(l => l.Float("loss")).ToArray());
        Assert.NotEqual(losses["fp32"], losses["fp16"]);
        Assert.NotEqual(losses["fp32"], losses["fp16-mixed"]);
        Assert.NotEqual(losses["fp16"], losses["fp16-mixed"]);
        foreach (var p in new[] { "fp16", "fp16-mixed" })
            for (int s = 0; s < losses["fp32"].Length; s++)
                Assert.True(MathF.Abs(losses[p][s] - losses["fp32"][s]) <= 0.02f * MathF.Abs(losses["fp32"][s]) + 1e-3f,
                    $"{model} step {s}: {p} loss {losses[p][s]} is far from fp32 loss {losses["fp32"][s]}");
    }

    // ---------------------------------------------------------------- boards and vector lengths

    [Fact]
    public void VLEN_128_is_the_default_and_only_board_mk_differs_between_the_vector_lengths()
    {
        Assert.Equal(128, Board.Load(PrecisionMatrix.ZvfhBoard).Vlen);
        Assert.Equal(new[] { 128, 256 }, Board.Load(PrecisionMatrix.ZvfhBoard).VlenOptions);
        Assert.Equal(256, PrecisionMatrix.Target("zvfh256").Load().Vlen);
        foreach (var c in PrecisionMatrix.All)
            foreach (var policy in c.Policies)
                foreach (var backend in new[] { Backend.C, Backend.Llvm })
                {
                    var v128 = fixture.Variant(c.Name, "zvfh128", policy);
                    var v256 = fixture.Variant(c.Name, "zvfh256", policy);
                    string d128 = fixture.FolderOf(v128, backend), d256 = fixture.FolderOf(v256, backend);
                    Assert.Contains("vlen=128", File.ReadAllText(Path.Combine(d128, "board.mk")));
                    Assert.Contains("vlen=256", File.ReadAllText(Path.Combine(d256, "board.mk")));
                    // The code is vector-length agnostic: every generated file is the same but board.mk (QEMU's vlen)
                    // and the manifest (which records it).
                    var f128 = GeneratedFiles(d128);
                    var f256 = GeneratedFiles(d256);
                    Assert.Equal(f128.Keys, f256.Keys);
                    var differ = f128.Keys.Where(k => f128[k] != f256[k]).ToArray();
                    Assert.True(differ.Order(StringComparer.Ordinal).SequenceEqual(["board.mk", "tinyodl.json"]), $"{c.Name} ({policy}, {backend}): files that differ between VLEN 128 and 256: {string.Join(", ", differ)}");
                }
    }

    /// <summary>Relative path to SHA-256 of every generated file (not the build/ folder).</summary>
    private static SortedDictionary<string, string> GeneratedFiles(string dir) =>
        new(Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f))
            .Where(r => !r.StartsWith("build" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .ToDictionary(r => r, r => System.Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, r))))),
            StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(Models))]
    public void Instruction_counts_per_step(string model)
    {
        var c = PrecisionMatrix.Get(model);
        var table = new StringBuilder($"{model}: instructions retired by the first training step (steps 1..n: min-max)\n");
        var first = new Dictionary<(string Target, string Policy, string Combo), ulong>();
        foreach (var policy in c.Policies)
            foreach (var t in c.Targets)
            {
                var v = fixture.Variant(model, t.Key, policy);
                foreach (var combo in BuildCombo.All)
                {
                    var key = PrecisionMatrixFixture.Key(combo);
                    if (!v.Combos.TryGetValue(key, out var outcome)) continue;
                    Assert.True(outcome.Run is { Succeeded: true }, $"{v.Key} with {combo.Name}: run failed ({outcome.Error?.Message})");
                    var steps = outcome.Run!.Lines.Where(l => l.Keyword == "step").ToArray();
                    Assert.NotEmpty(steps);
                    foreach (var s in steps)
                    {
                        Assert.True(s.UInt("instret") > 0, $"{v.Key} {combo.Name}: {s}");
                        Assert.True(s.UInt("cycles") >= s.UInt("instret"), $"{v.Key} {combo.Name}: cycles below instret in '{s}'");
                    }
                    first[(t.Key, policy, key)] = steps[0].UInt("instret");
                    table.AppendLine($"  {policy,-10} {t.Key,-8} {key,-9} {steps[0].UInt("instret"),8:N0}   " +
                        $"({steps.Min(s => s.UInt("instret")):N0}-{steps.Max(s => s.UInt("instret")):N0}; build+run {outcome.Elapsed.TotalSeconds:F1} s)");
                }
            }
        output.WriteLine(table.ToString());

        // 13 -> 11 -> 7 has loops longer than one VLEN-128 strip: VLEN 256 must need fewer instructions, which also
        // shows that the vector length reaches QEMU. (Smaller models fit in one strip either way.)
        // The vector kernels also beat the scalar Zfh ones there.
        if (model == "mlp2_13x11x7_relu_ce_sgd")
            foreach (var policy in c.Policies)
                foreach (var combo in new[] { "clang-O2", "clang-O3", "llvm-O2" })
                {
                    Assert.True(first[("zvfh256", policy, combo)] < first[("zvfh128", policy, combo)],
                        $"{model} ({policy}, {combo}): VLEN 256 retired {first[("zvfh256", policy, combo)]} instructions, VLEN 128 {first[("zvfh128", policy, combo)]}");
                    Assert.True(first[("zvfh128", policy, combo)] < first[("zfh", policy, combo)],
                        $"{model} ({policy}, {combo}): RVV retired {first[("zvfh128", policy, combo)]} instructions, scalar Zfh {first[("zfh", policy, combo)]}");
                }
    }

    [Fact]
    public void Fixture_timing()
    {
        var slowest = fixture.Variants.OrderByDescending(v => v.Elapsed).Take(5);
        output.WriteLine($"precision matrix: {fixture.Variants.Count()} variants, " +
            $"{fixture.Variants.Sum(v => v.Combos.Count)} builds and runs, {fixture.Variants.Sum(v => v.Skipped.Count)} skipped, " +
            $"{fixture.Elapsed.TotalSeconds:F1} s; slowest: {string.Join(", ", slowest.Select(v => $"{v.Key} {v.Elapsed.TotalSeconds:F1} s"))}");
        Assert.All(fixture.Variants, v => Assert.Null(v.SetupError));
    }

    /// <summary>Whether the IR calls an intrinsic (declarations do not count: the backend declares some it may not use).</summary>
    private static bool Calls(string ll, string intrinsicPrefix) =>
        System.Text.RegularExpressions.Regex.IsMatch(ll, @"call [^\n]*" + System.Text.RegularExpressions.Regex.Escape(intrinsicPrefix) + @"[\w.]*\(");

    private static string Tail(string s, int lines = 40)
    {
        var all = s.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
